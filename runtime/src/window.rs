//! A guest address window: one reservation of host address space in which
//! a user-mode process's RAM lives at `base + guest address` (what QEMU's
//! user mode calls `guest_base`).
//!
//! Why: with every page at a per-page host address, generated code must
//! load the page's addend from its host TLB entry before it can load the
//! data — two dependent loads on the critical path of every guest load.
//! With the window, the host address is `base + address`: the access
//! starts at once. Where the host's signal handler is installed
//! (`jit::fault`), generated code checks only that the address is inside
//! the window, and the host page protection decides the rest: unmapped
//! guest pages are `PROT_NONE`, pages holding translated code are
//! read-only (so a store to code faults and is noticed), and a faulting
//! access resumes in its slow path. Elsewhere the TLB tag check decides
//! whether the access may be direct, beside the access.
//!
//! The reservation is `PROT_NONE` and never handed back piecemeal: a piece
//! that is freed is reserved again, so the host never places anything of
//! its own inside the window.

use std::sync::{Arc, Mutex};

/// Reserved beyond a window's end, so an access that starts inside and
/// runs past the end faults (generated code checks only the start).
pub(crate) const GUARD: u64 = 1 << 16;

/// A reservation of host address space for guest addresses `[0, size)`.
#[derive(Debug)]
pub struct Window {
    base: usize,
    size: u64,
    /// Guest addresses below this are outside the reservation: those the
    /// host cannot map when the window is at address 0 (`mmap_min_addr`).
    low: u64,
    /// Live pieces as (guest address, length), so a piece is never
    /// mapped over another one that still owns its pages.
    pieces: Mutex<Vec<(u64, u64)>>,
}

/// The host's page size.
fn host_page() -> u64 {
    // SAFETY: sysconf has no preconditions.
    match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as u64,
        _ => 4096,
    }
}

impl Window {
    /// Reserve host address space for guest addresses `[0, size)`, at
    /// host address 0 when that is free (see [`Window::reserve_at_zero`]);
    /// None when the host cannot (a 32-bit host, an address-space limit):
    /// the process then keeps its RAM on the heap.
    pub fn reserve(size: u64) -> Option<Arc<Window>> {
        Window::reserve_at_zero(size).or_else(|| Window::reserve_anywhere(size))
    }

    /// A window at host address 0, so that guest addresses are host
    /// addresses (QEMU's user mode with `guest_base` 0): generated code
    /// then needs no base register and can fold address arithmetic into
    /// its accesses. One process has at most one such window at a time
    /// (a second reservation finds the range taken and fails, as does
    /// one that finds anything of the host's there). Guest addresses
    /// below the host's `mmap_min_addr` stay outside: the kernel never
    /// maps anything there, so accesses fault to the slow path and RAM
    /// placed there lives on the heap.
    pub fn reserve_at_zero(size: u64) -> Option<Arc<Window>> {
        let page = host_page();
        let min = std::fs::read_to_string("/proc/sys/vm/mmap_min_addr")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(1 << 16);
        let low = min.max(page).div_ceil(page) * page;
        let len = usize::try_from(size.checked_add(GUARD)?.checked_sub(low)?).ok()?;
        if cfg!(not(all(target_pointer_width = "64", target_os = "linux"))) || len == 0 {
            return None;
        }
        // SAFETY: MAP_FIXED_NOREPLACE maps only where nothing is mapped
        // (it fails otherwise), so this aliases nothing.
        let p = unsafe {
            libc::mmap(
                low as usize as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE
                    | libc::MAP_ANONYMOUS
                    | libc::MAP_NORESERVE
                    | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        if p as usize as u64 != low {
            // A kernel before 4.17 takes the flag as a hint.
            // SAFETY: the mapping just made, referenced by nothing.
            unsafe { libc::munmap(p, len) };
            return None;
        }
        Some(Arc::new(Window {
            base: 0,
            size,
            low,
            pieces: Mutex::new(Vec::new()),
        }))
    }

    /// A window wherever the host places it.
    pub fn reserve_anywhere(size: u64) -> Option<Arc<Window>> {
        let len = usize::try_from(size.checked_add(GUARD)?).ok()?;
        if cfg!(not(target_pointer_width = "64")) || len == 0 {
            return None;
        }
        // SAFETY: a fresh anonymous mapping at an address the kernel
        // chooses; it aliases nothing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        Some(Arc::new(Window {
            base: p as usize,
            size,
            low: 0,
            pieces: Mutex::new(Vec::new()),
        }))
    }

    /// Host address of guest address 0.
    pub fn base(&self) -> u64 {
        self.base as u64
    }

    /// Guest addresses the window holds: `[0, size)`.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Set the host protection of guest `[addr, addr + len)` in the
    /// window, whole host pages inside it only: `PROT_NONE` for guest
    /// memory unmapped while its block lives on (generated code's direct
    /// accesses there then fault to their slow path), `PROT_READ` for pages
    /// holding translated code (direct stores fault to their slow path,
    /// which catches the code write), `PROT_READ | PROT_WRITE` otherwise.
    fn protect(&self, addr: u64, len: u64, prot: libc::c_int) {
        let (page, end) = (host_page(), addr.saturating_add(len).min(self.size));
        let (a, e) = (addr.max(self.low).div_ceil(page) * page, end / page * page);
        if a < e {
            // SAFETY: whole pages inside our reservation; only their
            // protection changes. No Rust reference into them is live
            // across this call: pieces hand out slices only through
            // `&self` / `&mut self`, and their owners make pages writable
            // (here) before they write.
            unsafe {
                libc::mprotect(
                    (self.base + a as usize) as *mut libc::c_void,
                    (e - a) as usize,
                    prot,
                )
            };
        }
    }

    /// Zeroed read-write memory for guest `[addr, addr + len)`, or None
    /// when the range is not host-page aligned, leaves the window or
    /// overlaps a live piece (the caller then uses the heap).
    pub fn map(self: &Arc<Window>, addr: u64, len: u64) -> Option<Piece> {
        let page = host_page();
        let end = addr.checked_add(len)?;
        if len == 0
            || !addr.is_multiple_of(page)
            || !len.is_multiple_of(page)
            || end > self.size
            || addr < self.low
        {
            return None;
        }
        let mut pieces = self.pieces.lock().ok()?;
        if pieces.iter().any(|&(a, l)| a < end && addr < a + l) {
            return None;
        }
        let at = self.base + addr as usize;
        // SAFETY: `[at, at + len)` is inside our reservation and no live
        // piece owns it (checked above under the lock), so replacing the
        // reservation's pages there affects no other memory.
        let p = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED || p as usize != at {
            return None;
        }
        pieces.push((addr, len));
        Some(Piece {
            win: self.clone(),
            addr,
            len: len as usize,
            ptr: at as *mut u8,
        })
    }

    fn release(&self, addr: u64, len: usize) {
        let at = self.base + addr as usize;
        // SAFETY: `[at, at + len)` is a piece this window mapped and whose
        // owner is being dropped: nothing references it any more. Mapping
        // PROT_NONE over it frees the memory and keeps the reservation.
        unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            );
        }
        if let Ok(mut p) = self.pieces.lock() {
            p.retain(|&(a, _)| a != addr);
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // SAFETY: the whole reservation; every piece holds an `Arc` on the
        // window, so none is alive any more.
        unsafe {
            libc::munmap(
                (self.base + self.low as usize) as *mut libc::c_void,
                (self.size + GUARD - self.low) as usize,
            )
        };
    }
}

/// RAM for one guest range inside a [`Window`], owned like a `Vec<u8>`.
#[derive(Debug)]
pub struct Piece {
    win: Arc<Window>,
    addr: u64,
    len: usize,
    ptr: *mut u8,
}

// SAFETY: a piece exclusively owns its pages (the window never maps two
// live pieces over each other); it is accessed only through `&self` /
// `&mut self` like a `Vec<u8>`, so moving or sharing it between threads
// is as safe as for a `Vec<u8>`.
unsafe impl Send for Piece {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for Piece {}

impl Piece {
    /// Make `[off, off + len)` of the piece inaccessible to generated
    /// code's direct accesses (see [`Window::protect`]).
    pub fn protect_none(&self, off: u64, len: u64) {
        self.win.protect(self.addr + off, len, libc::PROT_NONE);
    }
    /// Make the whole host pages of `[off, off + len)` read-only
    /// (`writable` false: they hold translated code) or read-write again.
    pub fn protect_code(&self, off: u64, len: u64, writable: bool) {
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        self.win.protect(self.addr + off, len, prot);
    }
    /// The host page size: the unit of [`Piece::protect_code`].
    pub fn page(&self) -> u64 {
        host_page()
    }
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is a live read-write mapping of `len` bytes owned
        // by this piece, zero-initialised by the kernel.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
    /// The bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only
        // reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Piece {
    fn drop(&mut self) {
        self.win.release(self.addr, self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_sit_at_base_plus_address_and_never_overlap() {
        let w = Window::reserve(1 << 32).expect("reserve 4 GiB");
        let mut a = w.map(0x10000, 0x3000).expect("map");
        assert_eq!(a.as_slice().as_ptr() as u64, w.base() + 0x10000);
        assert!(a.as_slice().iter().all(|&b| b == 0));
        a.as_mut_slice()[5] = 7;
        assert!(w.map(0x12000, 0x1000).is_none(), "overlaps a live piece");
        assert!(w.map(0x12001, 0x1000).is_none(), "unaligned");
        assert!(
            w.map((1 << 32) - 0x1000, 0x2000).is_none(),
            "leaves the window"
        );
        drop(a);
        let b = w.map(0x12000, 0x1000).expect("free again");
        assert_eq!(b.as_slice()[0], 0);
    }
}
