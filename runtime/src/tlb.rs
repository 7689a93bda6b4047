//! A per-vCPU software TLB: guest-virtual pages to guest-physical pages,
//! filled by the frontend's page walker and flushed when the frontend says
//! translations changed. The page size is the vCPU's, a run-time value.

use crate::cpu::AccessKind;

/// Entries in the direct-mapped TLB.
const ENTRIES: usize = 256;

/// Permission bits of an entry.
pub const PERM_R: u8 = 1;
/// Write permission (only granted once the page is dirty).
pub const PERM_W: u8 = 2;
/// Execute permission.
pub const PERM_X: u8 = 4;

#[derive(Clone, Copy, Debug)]
struct Entry {
    vpage: u64,
    ppage: u64,
    perms: u8,
}

const INVALID: Entry = Entry {
    vpage: u64::MAX,
    ppage: 0,
    perms: 0,
};

/// What a page walk produced, for one page of `page_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbFill {
    /// Physical address the virtual address maps to.
    pub paddr: u64,
    /// Permissions for the current privilege (PERM_*).
    pub perms: u8,
}

/// The TLB.
#[derive(Clone, Debug)]
pub struct Tlb {
    entries: Vec<Entry>,
    page_bits: u32,
}

impl Default for Tlb {
    fn default() -> Tlb {
        Tlb::new(12)
    }
}

impl Tlb {
    /// An empty TLB for pages of `1 << page_bits` bytes.
    pub fn new(page_bits: u32) -> Tlb {
        Tlb {
            entries: vec![INVALID; ENTRIES],
            page_bits,
        }
    }
    /// Forget everything.
    pub fn flush(&mut self) {
        self.entries.fill(INVALID);
    }
    /// The physical address of `vaddr` for `kind`, if cached and allowed.
    pub fn lookup(&self, vaddr: u64, kind: AccessKind) -> Option<u64> {
        let vpage = vaddr >> self.page_bits;
        let e = &self.entries[vpage as usize % ENTRIES];
        let need = match kind {
            AccessKind::Load => PERM_R,
            AccessKind::Store => PERM_W,
            AccessKind::Fetch => PERM_X,
        };
        (e.vpage == vpage && e.perms & need != 0)
            .then(|| e.ppage | (vaddr & ((1 << self.page_bits) - 1)))
    }
    /// Remember a walk's result for the page holding `vaddr`.
    pub fn fill(&mut self, vaddr: u64, f: TlbFill) {
        let vpage = vaddr >> self.page_bits;
        let mask = (1u64 << self.page_bits) - 1;
        self.entries[vpage as usize % ENTRIES] = Entry {
            vpage,
            ppage: f.paddr & !mask,
            perms: f.perms,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_misses_and_permissions() {
        let mut t = Tlb::new(12);
        assert_eq!(t.lookup(0x1234, AccessKind::Load), None);
        t.fill(
            0x1234,
            TlbFill {
                paddr: 0x8000_5234,
                perms: PERM_R | PERM_X,
            },
        );
        assert_eq!(t.lookup(0x1ff8, AccessKind::Load), Some(0x8000_5ff8));
        assert_eq!(t.lookup(0x1000, AccessKind::Fetch), Some(0x8000_5000));
        assert_eq!(t.lookup(0x1000, AccessKind::Store), None, "not writable");
        assert_eq!(t.lookup(0x2000, AccessKind::Load), None);
        t.flush();
        assert_eq!(t.lookup(0x1234, AccessKind::Load), None);
    }
}
