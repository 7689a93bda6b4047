//! The memory of one Linux process: guest virtual addresses are the
//! addresses of one [`AddressSpace`] (user mode has no MMU), and every
//! mapping — ELF segment, stack, `brk` heap piece, `mmap` — is a RAM block
//! of its own mapped as a region. `munmap` splits regions; a block no
//! region uses any more is freed and its slot reused.

use super::abi::Errno;
use crate::ir::Endian;
use crate::memory::{AddressSpace, Memory, RamBlock, Region, Target, CODE_GRANULE_BITS};
use crate::window::Window;
use std::sync::Arc;

/// Lowest address a mapping may start at (Linux's `mmap_min_addr`).
pub const MIN_ADDR: u64 = 0x10000;
/// Size of the main thread's stack.
pub const STACK_SIZE: u64 = 8 << 20;
/// Room kept free between the stack and the highest `mmap`.
const STACK_GAP: u64 = 128 << 20;

/// A process's memory.
pub struct Mm {
    /// RAM blocks (one per mapping piece).
    pub mem: Memory,
    /// The guest's virtual address space.
    pub space: AddressSpace,
    /// Guest page size.
    pub page: u64,
    /// Guest byte order.
    pub endian: Endian,
    /// Bytes in a guest word.
    pub word: u64,
    /// First address above user space.
    pub task_size: u64,
    /// Top of the initial stack.
    pub stack_top: u64,
    /// `mmap` places mappings below this address, top down.
    pub mmap_top: u64,
    /// First address of the `brk` heap (page-aligned).
    pub brk_start: u64,
    /// Current program break.
    pub brk: u64,
    free_blocks: Vec<usize>,
    /// The host reservation RAM blocks are placed in (None: the heap).
    window: Option<Arc<Window>>,
}

impl Mm {
    /// An empty process memory for a guest with `word_bits`-bit words.
    pub fn new(page: u64, endian: Endian, word_bits: u32) -> Mm {
        // Guest pages at `base + address` need guest pages that are whole
        // host pages. `HEMU_NO_WINDOW` keeps RAM on the heap, for hosts
        // that cannot reserve the address space: qemu-user (where the
        // aarch64 backend's tests run) tracks every page of a reservation
        // and runs out of memory on 256 GiB.
        let window = if page.is_multiple_of(4096) && std::env::var_os("HEMU_NO_WINDOW").is_none() {
            Window::reserve(Mm::task_size(word_bits))
        } else {
            None
        };
        Mm::with_window(page, endian, word_bits, window)
    }

    /// A user address space like Linux gives: 2 GiB for 32-bit programs,
    /// 256 GiB (what the smallest 64-bit MMU modes allow) for 64-bit.
    fn task_size(word_bits: u32) -> u64 {
        if word_bits >= 64 {
            1 << 38
        } else {
            1 << 31
        }
    }

    /// [`Mm::new`] with RAM in `window` (None: on the heap).
    pub fn with_window(
        page: u64,
        endian: Endian,
        word_bits: u32,
        window: Option<Arc<Window>>,
    ) -> Mm {
        let task_size = Mm::task_size(word_bits);
        let stack_top = task_size - page;
        Mm {
            mem: Memory {
                window: window.as_ref().map(|w| w.base()),
                window_size: window.as_ref().map_or(0, |w| w.size()),
                ..Memory::default()
            },
            window,
            space: AddressSpace::new("user"),
            page,
            endian,
            word: u64::from(word_bits / 8),
            task_size,
            stack_top,
            mmap_top: stack_top - STACK_SIZE - STACK_GAP,
            brk_start: 0,
            brk: 0,
            free_blocks: Vec::new(),
        }
    }

    /// `x` rounded down to a page boundary.
    pub fn floor(&self, x: u64) -> u64 {
        x & !(self.page - 1)
    }

    /// `x` rounded up to a page boundary (None on overflow).
    pub fn ceil(&self, x: u64) -> Option<u64> {
        Some(x.checked_add(self.page - 1)? & !(self.page - 1))
    }

    /// Is `[base, base + len)` inside user space and unmapped?
    pub fn is_free(&self, base: u64, len: u64) -> bool {
        let Some(end) = base.checked_add(len) else {
            return false;
        };
        if len == 0 || base < MIN_ADDR || end > self.task_size {
            return false;
        }
        !self
            .space
            .regions()
            .iter()
            .any(|r| r.base < end && base <= r.last())
    }

    /// Map fresh zeroed memory at `[base, base + len)`, which must be free.
    pub fn map_new(&mut self, base: u64, len: u64, name: &str) -> Result<(), Errno> {
        let block =
            RamBlock::new_at(name, self.window.as_ref(), base, len).map_err(|_| Errno::NoMem)?;
        let idx = match self.free_blocks.pop() {
            Some(i) => {
                self.mem.ram[i] = block;
                i
            }
            None => {
                self.mem.ram.push(block);
                self.mem.ram.len() - 1
            }
        };
        let r = Region {
            name: name.to_string(),
            base,
            size: len,
            target: Target::Ram {
                block: idx,
                offset: 0,
            },
        };
        if self.space.map(r).is_err() {
            self.release(idx);
            return Err(Errno::NoMem);
        }
        Ok(())
    }

    /// Map every unmapped part of the page range `[lo, hi)`; returns the
    /// parts that were mapped already.
    pub fn map_gaps(&mut self, lo: u64, hi: u64, name: &str) -> Result<Vec<(u64, u64)>, Errno> {
        let mut existing = Vec::new();
        let mut gaps = Vec::new();
        let mut a = lo;
        for r in self.space.regions() {
            if r.last() < lo || r.base >= hi {
                continue;
            }
            if r.base > a {
                gaps.push((a, r.base));
            }
            let end = r.last().saturating_add(1).min(hi);
            existing.push((r.base.max(lo), end));
            a = end;
        }
        if a < hi {
            gaps.push((a, hi));
        }
        for (g0, g1) in gaps {
            self.map_new(g0, g1 - g0, name)?;
        }
        Ok(existing)
    }

    /// Remove `[base, base + len)` from the map, freeing blocks nothing
    /// maps any more. Returns the removed pieces, for the caller to drop
    /// code translated from them.
    pub fn unmap(&mut self, base: u64, len: u64) -> Vec<Region> {
        let removed = self.space.unmap(base, len).unwrap_or_default();
        if !removed.is_empty() {
            // vCPUs may hold host pointers into what was just unmapped.
            self.mem.host_epoch += 1;
        }
        for r in &removed {
            if let Target::Ram { block, .. } = r.target {
                let used = self
                    .space
                    .regions()
                    .iter()
                    .any(|o| matches!(o.target, Target::Ram { block: b, .. } if b == block));
                if !used && !self.free_blocks.contains(&block) {
                    self.release(block);
                } else if let Target::Ram { offset, .. } = r.target {
                    self.mem.ram[block].unmapped(offset, r.size);
                }
            }
        }
        removed
    }

    fn release(&mut self, block: usize) {
        if let Ok(empty) = RamBlock::new("(free)", 0, false) {
            self.mem.ram[block] = empty;
            self.free_blocks.push(block);
        }
    }

    /// A free page-aligned range of `len` bytes for `mmap`, highest first.
    pub fn find_free(&self, len: u64) -> Option<u64> {
        let floor = self
            .ceil(self.brk)
            .unwrap_or(u64::MAX)
            .max(self.brk_start)
            .max(MIN_ADDR);
        let mut top = self.mmap_top;
        for r in self.space.regions().iter().rev() {
            if r.base >= top {
                continue;
            }
            let end = r.last().saturating_add(1);
            if end < top {
                if let Some(b) = top.checked_sub(len).map(|b| self.floor(b)) {
                    if b >= end && b >= floor {
                        return Some(b);
                    }
                }
            }
            top = top.min(r.base);
            if top <= floor {
                return None;
            }
        }
        let b = self.floor(top.checked_sub(len)?);
        (b >= floor).then_some(b)
    }

    /// Set the program break (the `brk` system call): returns the new
    /// break, or the old one when the request cannot be met.
    pub fn set_brk(&mut self, new: u64) -> (u64, Vec<Region>) {
        if new < self.brk_start || new >= self.task_size {
            return (self.brk, Vec::new());
        }
        let (Some(old_end), Some(new_end)) = (self.ceil(self.brk), self.ceil(new)) else {
            return (self.brk, Vec::new());
        };
        let mut removed = Vec::new();
        if new_end > old_end {
            let len = new_end - old_end;
            if !self.is_free(old_end, len) || self.map_new(old_end, len, "[heap]").is_err() {
                return (self.brk, Vec::new());
            }
        } else if new_end < old_end {
            removed = self.unmap(new_end, old_end - new_end);
        }
        self.brk = new;
        (new, removed)
    }

    /// Is every byte of `[addr, addr + len)` mapped RAM?
    pub fn check(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let end = addr.checked_add(len).ok_or(Errno::Fault)?;
        let mut a = addr;
        while a < end {
            let r = self.space.find(a).ok_or(Errno::Fault)?;
            match r.target {
                Target::Ram { .. } => {}
                Target::Mmio { .. } => return Err(Errno::Fault),
            }
            match r.last().checked_add(1) {
                Some(n) => a = n,
                None => break,
            }
        }
        Ok(())
    }

    /// Copy guest memory at `addr` into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < buf.len() {
            let a = addr.checked_add(done as u64).ok_or(Errno::Fault)?;
            let r = self.space.find(a).ok_or(Errno::Fault)?;
            let Target::Ram { block, offset } = r.target else {
                return Err(Errno::Fault);
            };
            let off = (a - r.base + offset) as usize;
            let n = (r.last() - a)
                .saturating_add(1)
                .min((buf.len() - done) as u64) as usize;
            let src = self.mem.ram[block]
                .bytes()
                .get(off..off + n)
                .ok_or(Errno::Fault)?;
            buf[done..done + n].copy_from_slice(src);
            done += n;
        }
        Ok(())
    }

    /// Copy `data` into guest memory at `addr` (all or nothing), noting the
    /// code granules written so stale translations are dropped.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.check(addr, data.len() as u64)?;
        let mut done = 0usize;
        while done < data.len() {
            let a = addr + done as u64;
            let r = self.space.find(a).ok_or(Errno::Fault)?;
            let Target::Ram { block, offset } = r.target else {
                return Err(Errno::Fault);
            };
            let off = a - r.base + offset;
            let n = (r.last() - a)
                .saturating_add(1)
                .min((data.len() - done) as u64) as usize;
            let writes = &mut self.mem.code_writes;
            if !self.mem.ram[block].store_bytes(off as usize, &data[done..done + n], &mut |g| {
                writes.push((block, g))
            }) {
                return Err(Errno::Fault);
            }
            let (g0, g1) = (
                off >> CODE_GRANULE_BITS,
                (off + n as u64 - 1) >> CODE_GRANULE_BITS,
            );
            self.mem.code_writes.extend((g0..=g1).map(|g| (block, g)));
            done += n;
        }
        Ok(())
    }

    /// Write `len` zero bytes at `addr`.
    pub fn zero(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        let chunk = vec![0u8; len.min(1 << 16) as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len() as u64);
            self.write(addr + done, &chunk[..n as usize])?;
            done += n;
        }
        Ok(())
    }

    /// Encode `v` as `n` bytes in guest order.
    pub fn encode(&self, v: u64, n: usize) -> Vec<u8> {
        let le = v.to_le_bytes();
        let mut b = le[..n].to_vec();
        if self.endian == Endian::Big {
            b.reverse();
        }
        b
    }

    /// Decode `b` (guest order).
    pub fn decode(&self, b: &[u8]) -> u64 {
        let mut v = 0u64;
        match self.endian {
            Endian::Little => {
                for (i, x) in b.iter().enumerate() {
                    v |= u64::from(*x) << (8 * i);
                }
            }
            Endian::Big => {
                for x in b {
                    v = (v << 8) | u64::from(*x);
                }
            }
        }
        v
    }

    /// Read an `n`-byte integer.
    pub fn read_int(&self, addr: u64, n: usize) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b[..n])?;
        Ok(self.decode(&b[..n]))
    }

    /// Write an `n`-byte integer.
    pub fn write_int(&mut self, addr: u64, v: u64, n: usize) -> Result<(), Errno> {
        let b = self.encode(v, n);
        self.write(addr, &b)
    }

    /// Read a guest word.
    pub fn read_word(&self, addr: u64) -> Result<u64, Errno> {
        self.read_int(addr, self.word as usize)
    }

    /// Write a guest word.
    pub fn write_word(&mut self, addr: u64, v: u64) -> Result<(), Errno> {
        self.write_int(addr, v, self.word as usize)
    }

    /// Read a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            // Up to the end of the page, so no unmapped byte is touched.
            let n = (self.page - (a & (self.page - 1))) as usize;
            let mut buf = vec![0u8; n];
            self.read(a, &mut buf)?;
            if let Some(z) = buf.iter().position(|b| *b == 0) {
                out.extend_from_slice(&buf[..z]);
                return if out.len() > max {
                    Err(Errno::NameTooLong)
                } else {
                    Ok(out)
                };
            }
            out.extend_from_slice(&buf);
            if out.len() > max {
                return Err(Errno::NameTooLong);
            }
            a = a.checked_add(n as u64).ok_or(Errno::Fault)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mm() -> Mm {
        let mut m = Mm::new(4096, Endian::Little, 64);
        m.brk_start = 0x20000;
        m.brk = 0x20000;
        m
    }

    /// The protection of the host mapping holding `addr`, from
    /// /proc/self/maps (`rw-p`, `---p`, ...).
    fn host_perms(addr: u64) -> Option<String> {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        maps.lines().find_map(|l| {
            let mut f = l.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let (a, b) = range.split_once('-')?;
            let (a, b) = (
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            );
            (a <= addr && addr < b).then(|| perms.to_string())
        })
    }

    #[test]
    fn ram_sits_in_the_window_unless_a_live_block_holds_the_range() {
        use crate::memory::Bus;
        // A small window (what the test needs), whatever HEMU_NO_WINDOW says.
        let w = Window::reserve(1 << 32).expect("a 64-bit host reserves a window");
        let mut m = Mm::with_window(4096, Endian::Little, 64, Some(w));
        let base = m.mem.window.expect("window");
        m.map_new(0x10000, 0x4000, "a").unwrap();
        let host = |m: &mut Mm, a: u64| {
            let mut bus = Bus {
                space: &m.space,
                mem: &mut m.mem,
            };
            bus.host_page(a, false).map(|p| p as u64)
        };
        assert_eq!(host(&mut m, 0x11000), Some(base + 0x11000));
        // The first page leaves the map but its block lives on (the rest
        // still uses it): a new mapping there cannot take the window's
        // pages, so it goes to the heap.
        m.unmap(0x10000, 0x1000);
        // Generated code loads from the window without a TLB check: the
        // unmapped page must fault there, not show the old block's bytes.
        assert_eq!(host_perms(base + 0x10000).as_deref(), Some("---p"));
        assert_eq!(host_perms(base + 0x11000).as_deref(), Some("rw-p"));
        m.map_new(0x10000, 0x1000, "b").unwrap();
        let heap = host(&mut m, 0x10000).unwrap();
        assert_ne!(heap, base + 0x10000);
        assert_eq!(host(&mut m, 0x12000), Some(base + 0x12000));
        // Once everything is unmapped the window's pages are free again.
        m.unmap(0x10000, 0x4000);
        m.map_new(0x10000, 0x4000, "c").unwrap();
        assert_eq!(host(&mut m, 0x10000), Some(base + 0x10000));
    }

    #[test]
    fn window_pages_holding_code_are_read_only_until_written() {
        use crate::ir::Endian;
        use crate::memory::Bus;
        let w = Window::reserve(1 << 32).expect("a 64-bit host reserves a window");
        let mut m = Mm::with_window(4096, Endian::Little, 64, Some(w));
        let base = m.mem.window.expect("window");
        m.map_new(0x10000, 0x2000, "a").unwrap();
        let mut bus = Bus {
            space: &m.space,
            mem: &mut m.mem,
        };
        let mut insn = [0u8; 4];
        bus.fetch_code(0x10400, &mut insn).unwrap();
        // Generated code's direct stores to the page must fault.
        assert_eq!(host_perms(base + 0x10000).as_deref(), Some("r--p"));
        assert_eq!(host_perms(base + 0x11000).as_deref(), Some("rw-p"));
        assert_eq!(bus.host_page(0x10000, true), None, "no store entry");
        // A store elsewhere in the page opens it and gives up its code.
        let e = bus.write(0x10ff8, 8, 7, Endian::Little).unwrap();
        assert!(e.hit_code, "the page's code is stale");
        assert_eq!(bus.mem.code_writes, vec![(0, 1)]);
        assert_eq!(host_perms(base + 0x10000).as_deref(), Some("rw-p"));
        assert_eq!(bus.read(0x10ff8, 8, Endian::Little), Ok(7));
        // Translated again: read-only again; the host's own writes (system
        // calls) open it the same way.
        bus.fetch_code(0x10400, &mut insn).unwrap();
        assert_eq!(host_perms(base + 0x10000).as_deref(), Some("r--p"));
        m.mem.code_writes.clear();
        m.write(0x10000, &[1, 2, 3]).unwrap();
        assert_eq!(host_perms(base + 0x10000).as_deref(), Some("rw-p"));
        assert!(m.mem.code_writes.contains(&(0, 1)));
        assert_eq!(m.read_int(0x10001, 1), Ok(2));
    }

    #[test]
    fn unmap_splits_and_frees() {
        let mut m = mm();
        m.map_new(0x100000, 0x3000, "a").unwrap();
        m.write(0x100000, &[1; 0x3000]).unwrap();
        let removed = m.unmap(0x101000, 0x1000);
        assert_eq!(removed.len(), 1);
        assert_eq!(m.space.regions().len(), 2);
        assert_eq!(m.read_int(0x102000, 1), Ok(1));
        assert_eq!(m.read_int(0x101000, 1), Err(Errno::Fault));
        assert!(m.free_blocks.is_empty(), "block still used");
        m.unmap(0x100000, 0x3000);
        assert_eq!(m.free_blocks, vec![0]);
        m.map_new(0x200000, 0x1000, "b").unwrap();
        assert_eq!(m.read_int(0x200000, 8), Ok(0), "reused block is zeroed");
    }

    #[test]
    fn brk_grows_and_shrinks() {
        let mut m = mm();
        assert_eq!(m.set_brk(0x20000 + 0x1800).0, 0x21800);
        m.write(0x21fff, &[7]).unwrap();
        assert_eq!(m.set_brk(0x20010).0, 0x20010);
        assert_eq!(m.read_int(0x21000, 1), Err(Errno::Fault));
        assert_eq!(m.set_brk(0x1000).0, 0x20010, "below the start");
        assert_eq!(m.set_brk(u64::MAX).0, 0x20010);
    }

    #[test]
    fn find_free_goes_top_down_and_skips_mappings() {
        let mut m = mm();
        let a = m.find_free(0x2000).unwrap();
        assert_eq!(a, m.mmap_top - 0x2000);
        m.map_new(a, 0x2000, "x").unwrap();
        let b = m.find_free(0x1000).unwrap();
        assert_eq!(b, a - 0x1000);
        assert_eq!(m.find_free(!0xfff), None);
    }

    #[test]
    fn strings_stop_at_nul_and_limits() {
        let mut m = mm();
        m.map_new(0x100000, 0x2000, "s").unwrap();
        m.write(0x100ffe, b"abc\0").unwrap();
        assert_eq!(m.read_cstr(0x100ffe, 10).unwrap(), b"abc");
        assert_eq!(m.read_cstr(0x100ffe, 2), Err(Errno::NameTooLong));
        m.write(0x101ffe, b"xy").unwrap();
        assert_eq!(
            m.read_cstr(0x101ffe, 100),
            Err(Errno::Fault),
            "runs off the end"
        );
    }
}
