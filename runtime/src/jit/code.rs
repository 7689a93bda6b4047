//! Executable memory for generated code: one anonymous mapping per JIT.
//! A page is writable only while the dispatcher adds code to it (never
//! while generated code runs) and executable otherwise.
//!
//! Only the pages a new block touches change protection: re-protecting
//! the whole mapping costs the kernel a walk over every page table entry
//! populated so far, which made translation time grow with the amount of
//! code already generated (0.5–1.2 ms per block after a few hundred).

use memmap2::MmapMut;

/// Bytes of generated code a JIT keeps before it starts over.
pub const CODE_SIZE: usize = 64 << 20;

/// The code buffer.
pub struct CodeBuffer {
    /// Owns the mapping (unmapped on drop); its pages are read+exec
    /// except during `push`.
    map: MmapMut,
    base: usize,
    used: usize,
    /// Bytes of the runtime code at the start, kept by `reset`.
    keep: usize,
    page: usize,
}

impl CodeBuffer {
    /// A fresh buffer of `size` bytes.
    pub fn new(size: usize) -> std::io::Result<CodeBuffer> {
        let mut map = MmapMut::map_anon(size)?;
        let base = map.as_mut_ptr() as usize;
        // SAFETY: sysconf has no preconditions.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => 4096,
        };
        let mut b = CodeBuffer {
            map,
            base,
            used: 0,
            keep: 0,
            page,
        };
        b.protect(0, size, libc::PROT_READ | libc::PROT_EXEC)?;
        Ok(b)
    }
    /// Host address where the next code will be placed.
    pub fn next_addr(&self) -> usize {
        self.base + self.used
    }
    /// Bytes still free.
    pub fn free(&self) -> usize {
        self.map.len() - self.used
    }
    /// Change the protection of the pages holding `[at, at + len)`.
    fn protect(&mut self, at: usize, len: usize, prot: libc::c_int) -> std::io::Result<()> {
        let start = at & !(self.page - 1);
        let end = (at + len).next_multiple_of(self.page).min(self.map.len());
        // SAFETY: [start, end) lies inside our own mapping (page-aligned:
        // the mapping starts on a page and `start`/`end` are rounded to
        // pages and clamped to its length), and no generated code runs
        // while the dispatcher changes it: the JIT is single-threaded.
        let r =
            unsafe { libc::mprotect((self.base + start) as *mut libc::c_void, end - start, prot) };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
    /// Append `code` (assembled for `next_addr()`); returns its address.
    pub fn push(&mut self, code: &[u8]) -> std::io::Result<usize> {
        if code.len() > self.free() {
            return Err(std::io::Error::other("code buffer full"));
        }
        let at = self.used;
        self.protect(at, code.len(), libc::PROT_READ | libc::PROT_WRITE)?;
        self.map[at..at + code.len()].copy_from_slice(code);
        self.protect(at, code.len(), libc::PROT_READ | libc::PROT_EXEC)?;
        #[cfg(target_arch = "aarch64")]
        dynasmrt::cache_control::synchronize_icache(&self.map[at..at + code.len()]);
        // Keep blocks 16-byte aligned (branch targets).
        self.used = (at + code.len() + 15) & !15;
        Ok(self.base + at)
    }
    /// Mark everything pushed so far as permanent (the runtime code).
    pub fn keep_current(&mut self) {
        self.keep = self.used;
    }
    /// Forget every block (not the runtime code).
    pub fn reset(&mut self) {
        self.used = self.keep;
    }
}
