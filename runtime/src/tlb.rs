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
    /// Guest-virtual 4 KiB pages that are plain RAM, with their host
    /// addresses: the JIT's inline load/store path. Flushed with the TLB,
    /// so it never outlives the translations and permissions it was
    /// filled under.
    pub host: HostTlb,
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
            host: HostTlb::new(),
        }
    }
    /// Forget everything.
    pub fn flush(&mut self) {
        self.entries.fill(INVALID);
        self.host.flush();
    }
    /// Log2 of the guest page size.
    pub fn page_bits(&self) -> u32 {
        self.page_bits
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

/// Log2 of the host TLB's page: 4 KiB whatever the guest's page size (a
/// larger guest page simply takes several entries).
pub const HOST_PAGE_BITS: u32 = 12;
/// Entries in the host TLB (a power of two).
pub const HOST_ENTRIES: usize = 1024;
/// A tag that matches no address (its low bits are never all set in a
/// compared value, which keeps at most the access size's low bits).
pub const HOST_INVALID: u64 = u64::MAX;

/// One host TLB entry, laid out for generated code: the compared tags
/// are the guest page address (`HOST_INVALID` when the access kind is not
/// allowed), `addend` turns a guest address into a host one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostEntry {
    /// Page tag for loads.
    pub read: u64,
    /// Page tag for stores.
    pub write: u64,
    /// Host address minus guest address for the page.
    pub addend: u64,
    /// Padding to a power-of-two size.
    pub pad: u64,
}

const HOST_EMPTY: HostEntry = HostEntry {
    read: HOST_INVALID,
    write: HOST_INVALID,
    addend: 0,
    pad: 0,
};

/// Direct-mapped guest page -> host pointer cache for RAM the vCPU may
/// access without the full path (no MMIO, no translated code for stores).
#[derive(Clone, Debug)]
pub struct HostTlb {
    // Inline, not boxed: generated code reaches the entries at a fixed
    // offset from the vCPU's state, without loading a pointer first.
    entries: [HostEntry; HOST_ENTRIES],
    /// `Memory::host_epoch` the entries were filled under.
    pub epoch: u64,
}

/// Offset of the entries in a [`HostTlb`], for generated code.
pub const HOST_TLB_ENTRIES: usize = std::mem::offset_of!(HostTlb, entries);

impl HostTlb {
    fn new() -> HostTlb {
        HostTlb {
            entries: [HOST_EMPTY; HOST_ENTRIES],
            epoch: 0,
        }
    }
    /// Forget everything.
    pub fn flush(&mut self) {
        self.entries.fill(HOST_EMPTY);
    }
    /// The entries, for generated code.
    pub fn as_mut_ptr(&mut self) -> *mut HostEntry {
        self.entries.as_mut_ptr()
    }
    /// Remember that the guest page holding `vaddr` is host memory at
    /// `host_page` (the page's first byte) for loads or stores.
    pub fn fill(&mut self, vaddr: u64, host_page: *mut u8, write: bool) {
        let vpage = vaddr & !((1 << HOST_PAGE_BITS) - 1);
        let addend = (host_page as u64).wrapping_sub(vpage);
        let e = &mut self.entries[(vaddr >> HOST_PAGE_BITS) as usize % HOST_ENTRIES];
        if e.addend != addend || (e.read != vpage && e.write != vpage) {
            *e = HOST_EMPTY;
        }
        e.addend = addend;
        if write {
            e.write = vpage;
        } else {
            e.read = vpage;
        }
    }
    /// The host address of `vaddr` if cached for the access kind (as
    /// generated code computes it).
    pub fn lookup(&self, vaddr: u64, size: u64, write: bool) -> Option<u64> {
        let e = &self.entries[(vaddr >> HOST_PAGE_BITS) as usize % HOST_ENTRIES];
        let tag = vaddr & (!((1u64 << HOST_PAGE_BITS) - 1) | (size - 1));
        let want = if write { e.write } else { e.read };
        (tag == want).then(|| vaddr.wrapping_add(e.addend))
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

    #[test]
    fn host_entries_tag_pages_and_alignment() {
        let mut t = Tlb::new(12);
        let mut page = vec![0u8; 4096];
        let p = page.as_mut_ptr();
        t.host.fill(0x5123, p, false);
        let base = p as u64;
        assert_eq!(t.host.lookup(0x5008, 8, false), Some(base + 8));
        assert_eq!(
            t.host.lookup(0x5009, 8, false),
            None,
            "misaligned: slow path"
        );
        assert_eq!(t.host.lookup(0x5008, 8, true), None, "read-only entry");
        t.host.fill(0x5000, p, true);
        assert_eq!(t.host.lookup(0x5ffc, 4, true), Some(base + 0xffc));
        assert_eq!(t.host.lookup(0x5ffc, 4, false), Some(base + 0xffc));
        // Another page in the same slot replaces both tags.
        t.host.fill(0x5000 + (HOST_ENTRIES as u64) * 4096, p, false);
        assert_eq!(t.host.lookup(0x5000, 4, true), None);
        t.flush();
        assert_eq!(
            t.host
                .lookup(0x5000 + (HOST_ENTRIES as u64) * 4096, 4, false),
            None
        );
    }
}
