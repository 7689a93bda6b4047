//! Executable memory for generated code: one anonymous mapping per JIT,
//! writable only while the dispatcher adds code (never while generated
//! code runs), executable otherwise.

use memmap2::{Mmap, MmapMut};

/// Bytes of generated code a JIT keeps before it starts over.
pub const CODE_SIZE: usize = 64 << 20;

enum Map {
    Rx(Mmap),
    Gone,
}

/// The code buffer.
pub struct CodeBuffer {
    map: Map,
    base: usize,
    used: usize,
    /// Bytes of the runtime code at the start, kept by `reset`.
    keep: usize,
}

impl CodeBuffer {
    /// A fresh buffer of `size` bytes.
    pub fn new(size: usize) -> std::io::Result<CodeBuffer> {
        let map = MmapMut::map_anon(size)?.make_exec()?;
        let base = map.as_ptr() as usize;
        Ok(CodeBuffer {
            map: Map::Rx(map),
            base,
            used: 0,
            keep: 0,
        })
    }
    /// Host address where the next code will be placed.
    pub fn next_addr(&self) -> usize {
        self.base + self.used
    }
    /// Bytes still free.
    pub fn free(&self) -> usize {
        self.len() - self.used
    }
    fn len(&self) -> usize {
        match &self.map {
            Map::Rx(m) => m.len(),
            Map::Gone => 0,
        }
    }
    /// Append `code` (assembled for `next_addr()`); returns its address.
    pub fn push(&mut self, code: &[u8]) -> std::io::Result<usize> {
        if code.len() > self.free() {
            return Err(std::io::Error::other("code buffer full"));
        }
        let at = self.used;
        let mut m: MmapMut = match std::mem::replace(&mut self.map, Map::Gone) {
            Map::Rx(m) => m.make_mut()?,
            Map::Gone => return Err(std::io::Error::other("code buffer lost")),
        };
        m[at..at + code.len()].copy_from_slice(code);
        let m = m.make_exec()?;
        #[cfg(target_arch = "aarch64")]
        dynasmrt::cache_control::synchronize_icache(&m[at..at + code.len()]);
        self.map = Map::Rx(m);
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
