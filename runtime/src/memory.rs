//! Guest memory: RAM blocks, device windows, and address spaces (views)
//! that map guest physical addresses onto them.
//!
//! A machine owns one [`Memory`] (every RAM block and device) and any number
//! of [`AddressSpace`]s; each cluster accesses memory through its own space,
//! so clusters can see different maps of shared parts.

use crate::cpu::FaultReason;
use crate::device::{Device, DeviceCtx, MachineEvent};
use crate::ir::Endian;
use crate::shared_ram::SharedRam;
use crate::window::{Piece, Window};
use bitvec::vec::BitVec;
use std::sync::Arc;

/// Where a RAM block's bytes live: the heap, or a piece of a process's
/// guest address [`Window`] (at `window base + guest address`).
enum Storage {
    Heap(Vec<u8>),
    Window(Piece),
}

impl std::ops::Deref for Storage {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Storage::Heap(v) => v,
            Storage::Window(p) => p.as_slice(),
        }
    }
}

impl std::ops::DerefMut for Storage {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Storage::Heap(v) => v,
            Storage::Window(p) => p.as_mut_slice(),
        }
    }
}

/// Granule of self-modifying-code tracking in RAM (bytes, log2). A host-side
/// bookkeeping unit, unrelated to any guest page size.
pub const CODE_GRANULE_BITS: u32 = 10;

/// A block of guest RAM.
pub struct RamBlock {
    /// Stable path of the block (`/machine/ram`).
    pub path: String,
    data: Storage,
    /// Granules that some translated block was built from.
    code: BitVec,
    read_only: bool,
    /// While clusters run in parallel threads, RAM that several of them
    /// see lives here instead of `data` (which is then empty).
    shared: Option<Arc<SharedRam>>,
    /// The partition (thread) this handle on shared RAM belongs to, and
    /// how far it has read the block's log of writes into its code.
    part: usize,
    log_seen: usize,
}

impl RamBlock {
    /// A zeroed block for guest addresses `[addr, addr + size)` of a
    /// process, inside its address `window` when the window can hold it
    /// (else on the heap, like [`RamBlock::new`]).
    pub fn new_at(
        path: &str,
        window: Option<&Arc<Window>>,
        addr: u64,
        size: u64,
    ) -> Result<RamBlock, String> {
        match window.and_then(|w| w.map(addr, size)) {
            Some(p) => Ok(RamBlock::with(path, Storage::Window(p), false)),
            None => RamBlock::new(path, size, false),
        }
    }
    /// A zeroed block of `size` bytes; fails (instead of aborting the
    /// process) when the host cannot provide the memory.
    pub fn new(path: &str, size: u64, read_only: bool) -> Result<RamBlock, String> {
        Ok(RamBlock::with(
            path,
            Storage::Heap(zeroed(size)?),
            read_only,
        ))
    }
    fn with(path: &str, data: Storage, read_only: bool) -> RamBlock {
        let granules = (data.len() >> CODE_GRANULE_BITS) + 1;
        RamBlock {
            path: path.to_string(),
            data,
            code: BitVec::repeat(false, granules),
            read_only,
            shared: None,
            part: 0,
            log_seen: 0,
        }
    }
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        match &self.shared {
            Some(s) => s.len() as u64,
            None => self.data.len() as u64,
        }
    }
    /// The contents (empty while the block is shared between threads:
    /// only during a parallel run, when nothing else holds the machine).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
    /// Copy `data` in at byte `off`; false (and nothing written) when it
    /// does not fit. Code granules that stop being watched because their
    /// page became writable again go to `cleared` (see [`Self::open`]):
    /// their translations are stale from now on.
    pub fn store_bytes(&mut self, off: usize, data: &[u8], cleared: &mut dyn FnMut(u64)) -> bool {
        if off
            .checked_add(data.len())
            .is_none_or(|end| end > self.size() as usize)
        {
            return false;
        }
        self.open(off as u64, data.len() as u64, cleared);
        self.write_at(off, data);
        true
    }
    /// Record that granule `g` holds translated code. In a window its
    /// host page becomes read-only, so generated code's direct stores to
    /// it fault into their slow path, which sees the code write.
    fn mark_code(&mut self, g: usize) {
        if let Storage::Window(p) = &self.data {
            let page = p.page();
            let per = (page >> CODE_GRANULE_BITS).max(1) as usize;
            let g0 = g / per * per;
            // The page's first code granule: it is writable until now.
            if !self.code[g0..(g0 + per).min(self.code.len())].any() {
                p.protect_code(g0 as u64 * (page / per as u64), page, false);
            }
        }
        self.code.set(g, true);
    }
    /// Before the host writes to `[off, off + len)` of a block in a
    /// window: every host page there holding translated code becomes
    /// writable again, and all its code granules are given up (passed to
    /// `cleared`, their marks removed), since generated code's direct
    /// stores to that page are no longer caught. QEMU's user mode does the
    /// same per page. Nothing to do on the heap, where every store goes
    /// through [`Bus::write`] or the host TLB (which skips code pages).
    fn open(&mut self, off: u64, len: u64, cleared: &mut dyn FnMut(u64)) {
        let Storage::Window(p) = &self.data else {
            return;
        };
        if len == 0 {
            return;
        }
        let page = p.page();
        let per = (page >> CODE_GRANULE_BITS).max(1) as usize;
        for pg in off / page..=(off + len - 1) / page {
            let g0 = pg as usize * per;
            let g1 = (g0 + per).min(self.code.len());
            if g0 < g1 && self.code[g0..g1].any() {
                for g in g0..g1 {
                    if self.code[g] {
                        self.code.set(g, false);
                        cleared(g as u64);
                    }
                }
                p.protect_code(pg * page, page, true);
            }
        }
    }
    /// Move the contents into thread-shared storage; returns it. Accesses
    /// then go through atomic operations and [`Bus::host_page`] hands out
    /// no pointers into the block.
    pub fn share(&mut self) -> Arc<SharedRam> {
        if let Some(s) = &self.shared {
            return s.clone();
        }
        let s = Arc::new(SharedRam::from_bytes(&self.data));
        self.data = Storage::Heap(Vec::new());
        self.shared = Some(s.clone());
        s
    }
    /// Another handle on a shared block, for the thread of partition
    /// `part`, with its own record of translated code.
    pub fn shared_handle(&self, part: usize) -> Option<RamBlock> {
        let s = self.shared.as_ref()?;
        // What was translated before the split stays known to every
        // partition (each cluster's cache may hold it).
        for g in self.code.iter_ones() {
            s.mark_code(g as u64, part);
        }
        Some(RamBlock {
            path: self.path.clone(),
            data: Storage::Heap(Vec::new()),
            code: self.code.clone(),
            read_only: self.read_only,
            shared: Some(s.clone()),
            part,
            log_seen: 0,
        })
    }
    /// Record the translated-code granules another handle on this shared
    /// block saw (so stores to them are still caught after the run).
    pub fn merge_code(&mut self, other: &RamBlock) {
        if self.code.len() == other.code.len() {
            self.code |= other.code.clone();
        }
    }
    /// Take the contents back out of thread-shared storage.
    pub fn unshare(&mut self) {
        if let Some(s) = self.shared.take() {
            self.data = Storage::Heap(s.to_vec());
        }
    }
    /// An empty stand-in that keeps a block's index in [`Memory::ram`]
    /// (a thread's memory, for blocks its cluster does not see).
    pub fn placeholder(path: &str) -> RamBlock {
        RamBlock {
            path: path.to_string(),
            data: Storage::Heap(Vec::new()),
            code: BitVec::repeat(false, 1),
            read_only: true,
            shared: None,
            part: 0,
            log_seen: 0,
        }
    }
    fn read_at(&self, off: usize, out: &mut [u8]) {
        match &self.shared {
            Some(s) => s.read(off, out),
            None => out.copy_from_slice(&self.data[off..off + out.len()]),
        }
    }
    fn write_at(&mut self, off: usize, data: &[u8]) {
        match &self.shared {
            Some(s) => s.write(off, data),
            None => self.data[off..off + data.len()].copy_from_slice(data),
        }
    }
    /// Guest memory `[off, off + len)` of the block was unmapped while the
    /// block lives on: make it inaccessible to generated code's direct
    /// loads (a block in a window; nothing to do on the heap).
    pub fn unmapped(&self, off: u64, len: u64) {
        if let Storage::Window(p) = &self.data {
            p.protect_none(off, len);
        }
    }
    /// Is the block read-only to the guest (ROM, flash)?
    pub fn read_only(&self) -> bool {
        self.read_only
    }
}

/// A device placed in a machine.
pub struct DeviceSlot {
    /// Stable path (`/machine/uart0`).
    pub path: String,
    /// Type name.
    pub type_name: &'static str,
    /// Byte order of the device's registers.
    pub endian: Endian,
    /// The model.
    pub dev: Box<dyn Device>,
}

/// Everything addressable in a machine.
#[derive(Default)]
pub struct Memory {
    /// RAM and ROM blocks.
    pub ram: Vec<RamBlock>,
    /// Devices.
    pub devices: Vec<DeviceSlot>,
    /// Events raised by devices, for the machine to handle.
    pub events: Vec<MachineEvent>,
    /// RAM granules holding translated code that were written since the
    /// machine last looked: (ram block, granule index).
    pub code_writes: Vec<(usize, u64)>,
    /// Virtual time in nanoseconds, as devices see it.
    pub now_ns: u64,
    /// Bumped whenever host pointers into RAM that vCPUs cached (their
    /// host TLBs) may have gone stale: RAM unmapped or freed, or a page
    /// started holding translated code (its stores must now be watched).
    pub host_epoch: u64,
    /// Where loaders put images, as (address, length) in load order: a
    /// frontend may place things in the RAM no image uses (ARM
    /// semihosting's SYS_HEAPINFO, as QEMU does with its ROM blobs).
    pub loaded: Vec<(u64, u64)>,
    /// Host address of guest address 0 when this is a user-mode process's
    /// memory laid out in a [`Window`]: generated code then adds it to
    /// guest addresses the host TLB lets through, and the host TLB only
    /// caches pages that sit there.
    pub window: Option<u64>,
    /// Guest addresses the window holds (`[0, window_size)`). All of the
    /// memory lies inside (a process's address space): an access at or
    /// beyond it never succeeds, which lets generated code take an
    /// address it checked once as inside for later accesses near it.
    pub window_size: u64,
}

impl Memory {
    /// Pick up the stores other threads made into shared RAM this
    /// partition translated code from: they join [`Memory::code_writes`]
    /// (and the granules are no longer marked as code here).
    pub fn take_remote_code_writes(&mut self) {
        for (b, ram) in self.ram.iter_mut().enumerate() {
            let Some(s) = &ram.shared else { continue };
            for g in s.take_remote_writes(ram.part, &mut ram.log_seen) {
                if (g as usize) < ram.code.len() {
                    ram.code.set(g as usize, false);
                }
                self.code_writes.push((b, g));
            }
        }
    }
}

/// What a region of an address space maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// RAM block `block`, starting at byte `offset` of it.
    Ram {
        /// Index in [`Memory::ram`].
        block: usize,
        /// Offset into the block.
        offset: u64,
    },
    /// Device `device`'s MMIO window.
    Mmio {
        /// Index in [`Memory::devices`].
        device: usize,
    },
}

/// One mapping of an address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Name for `info mtree`.
    pub name: String,
    /// First guest address.
    pub base: u64,
    /// Size in bytes (> 0).
    pub size: u64,
    /// What it maps to.
    pub target: Target,
}

impl Region {
    /// Last address covered (inclusive), saturating at the top of the space.
    pub fn last(&self) -> u64 {
        self.base.saturating_add(self.size - 1)
    }
}

/// An address space: non-overlapping regions sorted by address.
#[derive(Clone, Debug, Default)]
pub struct AddressSpace {
    /// Name (`sysmem`).
    pub name: String,
    regions: Vec<Region>,
}

impl AddressSpace {
    /// An empty space.
    pub fn new(name: &str) -> AddressSpace {
        AddressSpace {
            name: name.to_string(),
            regions: Vec::new(),
        }
    }
    /// Add a region; fails, naming the other region, if it overlaps one.
    pub fn map(&mut self, region: Region) -> Result<(), String> {
        if region.size == 0 {
            return Err(format!("region {} has size 0", region.name));
        }
        if let Some(o) = self
            .regions
            .iter()
            .find(|o| region.base <= o.last() && o.base <= region.last())
        {
            return Err(format!(
                "region {} [{:#x}..{:#x}] overlaps {} [{:#x}..{:#x}]",
                region.name,
                region.base,
                region.last(),
                o.name,
                o.base,
                o.last()
            ));
        }
        let at = self.regions.partition_point(|o| o.base < region.base);
        self.regions.insert(at, region);
        Ok(())
    }
    /// The regions, by address.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }
    /// The region containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Region> {
        let i = self.regions.partition_point(|r| r.base <= addr);
        let r = self.regions.get(i.checked_sub(1)?)?;
        (addr <= r.last()).then_some(r)
    }
}

impl AddressSpace {
    /// Remove `[base, base + size)` from the space, splitting regions that
    /// straddle its ends (a RAM region's remainder keeps its block, at the
    /// right offset). Returns the removed pieces, in address order. Fails,
    /// changing nothing, if it would split a device window (its register
    /// offsets would move); windows wholly inside the range are removed.
    pub fn unmap(&mut self, base: u64, size: u64) -> Result<Vec<Region>, String> {
        if size == 0 {
            return Ok(Vec::new());
        }
        let last = base.saturating_add(size - 1);
        let hit = |r: &Region| r.base <= last && base <= r.last();
        if let Some(r) = self.regions.iter().find(|r| {
            hit(r) && matches!(r.target, Target::Mmio { .. }) && (r.base < base || r.last() > last)
        }) {
            return Err(format!(
                "unmapping [{base:#x}..{last:#x}] would split device window {}",
                r.name
            ));
        }
        let piece = |r: &Region, lo: u64, hi: u64| Region {
            name: r.name.clone(),
            base: lo,
            size: hi - lo + 1,
            target: match r.target {
                Target::Ram { block, offset } => Target::Ram {
                    block,
                    offset: offset + (lo - r.base),
                },
                t => t,
            },
        };
        let mut kept = Vec::with_capacity(self.regions.len() + 1);
        let mut removed = Vec::new();
        for r in std::mem::take(&mut self.regions) {
            if !hit(&r) {
                kept.push(r);
                continue;
            }
            if r.base < base {
                kept.push(piece(&r, r.base, base - 1));
            }
            removed.push(piece(&r, r.base.max(base), r.last().min(last)));
            if r.last() > last {
                kept.push(piece(&r, last + 1, r.last()));
            }
        }
        self.regions = kept;
        Ok(removed)
    }
}

/// Result of a store, for self-modifying-code detection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreEffect {
    /// The store hit RAM that translated code came from.
    pub hit_code: bool,
}

/// A CPU's access path: its address space over the machine's memory.
pub struct Bus<'a> {
    /// The view.
    pub space: &'a AddressSpace,
    /// The memory behind it.
    pub mem: &'a mut Memory,
}

impl Bus<'_> {
    /// Read `size` bytes at `addr` in byte order `endian`.
    pub fn read(&mut self, addr: u64, size: u8, endian: Endian) -> Result<u64, FaultReason> {
        let r = self.space.find(addr).ok_or(FaultReason::Unmapped)?;
        let n = size as u64;
        if addr.checked_add(n - 1).is_none_or(|end| end > r.last()) {
            return self.read_split(addr, size, endian);
        }
        match r.target {
            Target::Ram { block, offset } => {
                let off = (addr - r.base + offset) as usize;
                let mut data = [0u8; 8];
                self.mem.ram[block].read_at(off, &mut data[..size as usize]);
                Ok(from_bytes(&data[..size as usize], endian))
            }
            Target::Mmio { device } => {
                let slot = &mut self.mem.devices[device];
                let mut cx = DeviceCtx {
                    events: &mut self.mem.events,
                    device,
                    now_ns: self.mem.now_ns,
                };
                let v = slot
                    .dev
                    .read(addr - r.base, size, &mut cx)
                    .map_err(|_| FaultReason::Device)?;
                Ok(if slot.endian == endian {
                    v
                } else {
                    swap(v, size)
                })
            }
        }
    }

    /// Write the low `size` bytes of `value` at `addr` in byte order `endian`.
    pub fn write(
        &mut self,
        addr: u64,
        size: u8,
        value: u64,
        endian: Endian,
    ) -> Result<StoreEffect, FaultReason> {
        let r = self.space.find(addr).ok_or(FaultReason::Unmapped)?;
        let n = size as u64;
        if addr.checked_add(n - 1).is_none_or(|end| end > r.last()) {
            return self.write_split(addr, size, value, endian);
        }
        match r.target {
            Target::Ram { block, offset } => {
                let off = addr - r.base + offset;
                let Memory {
                    ram, code_writes, ..
                } = &mut *self.mem;
                let ram = &mut ram[block];
                if ram.read_only {
                    return Err(FaultReason::ReadOnly);
                }
                let mut data = [0u8; 8];
                to_bytes(&mut data[..n as usize], value, endian);
                let mut opened = false;
                ram.open(off, n, &mut |g| {
                    code_writes.push((block, g));
                    opened = true;
                });
                ram.write_at(off as usize, &data[..n as usize]);
                let mut effect = self.note_store(block, off, n);
                effect.hit_code |= opened;
                Ok(effect)
            }
            Target::Mmio { device } => {
                let slot = &mut self.mem.devices[device];
                let v = if slot.endian == endian {
                    value
                } else {
                    swap(value, size)
                };
                let mut cx = DeviceCtx {
                    events: &mut self.mem.events,
                    device,
                    now_ns: self.mem.now_ns,
                };
                slot.dev
                    .write(addr - r.base, size, v & size_mask(size), &mut cx)
                    .map_err(|_| FaultReason::Device)?;
                Ok(StoreEffect::default())
            }
        }
    }

    /// Record a store of `n` bytes at offset `off` of RAM block `block`:
    /// translated code from those bytes is now stale.
    fn note_store(&mut self, block: usize, off: u64, n: u64) -> StoreEffect {
        let ram = &mut self.mem.ram[block];
        let mut effect = StoreEffect::default();
        let (g0, g1) = (off >> CODE_GRANULE_BITS, (off + n - 1) >> CODE_GRANULE_BITS);
        for g in g0..=g1 {
            if let Some(s) = &ram.shared {
                s.note_store(g, ram.part);
            }
            // Test the raw word first: stores to code are rare.
            let word = ram.code.as_raw_slice()[g as usize / usize::BITS as usize];
            if word >> (g as usize % usize::BITS as usize) & 1 == 1 {
                ram.code.set(g as usize, false);
                self.mem.code_writes.push((block, g));
                effect.hit_code = true;
            }
        }
        effect
    }

    /// Atomic read-modify-write of the `size` bytes at `addr` (byte order
    /// `endian`): memory becomes `f(old)`, or stays when `f` gives `None`;
    /// returns the old value (zero-extended). Indivisible with respect to
    /// every other vCPU, also those in other host threads sharing the RAM
    /// (aligned accesses; see [`SharedRam::update`]). On a device it is a
    /// read and then a write.
    pub fn atomic(
        &mut self,
        addr: u64,
        size: u8,
        endian: Endian,
        f: &mut dyn FnMut(u64) -> Option<u64>,
    ) -> Result<(u64, StoreEffect), FaultReason> {
        let r = self.space.find(addr).ok_or(FaultReason::Unmapped)?;
        let n = size as u64;
        let in_region = addr.checked_add(n - 1).is_some_and(|end| end <= r.last());
        if let (true, Target::Ram { block, offset }) = (in_region, r.target) {
            let off = addr - r.base + offset;
            let ram = &self.mem.ram[block];
            if ram.read_only {
                return Err(FaultReason::ReadOnly);
            }
            if let Some(s) = &ram.shared {
                // The word's bytes are little-endian in `SharedRam`.
                let le = |v: u64| match endian {
                    Endian::Little => v,
                    Endian::Big => swap(v, size),
                };
                let mut stored = false;
                let old = s
                    .update(off as usize, size as usize, |raw| {
                        let new = f(le(raw))?;
                        stored = true;
                        Some(le(new & size_mask(size)))
                    })
                    .map(le)
                    .ok_or(FaultReason::Unmapped)?;
                let effect = if stored {
                    self.note_store(block, off, n)
                } else {
                    StoreEffect::default()
                };
                return Ok((old, effect));
            }
        }
        // Private RAM or a device: this thread is the only one accessing
        // it, so a read and then a write is indivisible.
        let old = self.read(addr, size, endian)?;
        let effect = match f(old) {
            Some(new) => self.write(addr, size, new, endian)?,
            None => StoreEffect::default(),
        };
        Ok((old, effect))
    }

    // An access straddling two regions: done byte by byte, so each byte
    // goes where the map sends it.
    fn read_split(&mut self, addr: u64, size: u8, endian: Endian) -> Result<u64, FaultReason> {
        let mut bytes = [0u8; 8];
        for (i, b) in bytes[..size as usize].iter_mut().enumerate() {
            let a = addr.checked_add(i as u64).ok_or(FaultReason::Unmapped)?;
            *b = self.read(a, 1, endian)? as u8;
        }
        Ok(from_bytes(&bytes[..size as usize], endian))
    }

    fn write_split(
        &mut self,
        addr: u64,
        size: u8,
        value: u64,
        endian: Endian,
    ) -> Result<StoreEffect, FaultReason> {
        let mut bytes = [0u8; 8];
        to_bytes(&mut bytes[..size as usize], value, endian);
        // Check every byte is writable before changing any.
        for i in 0..size as u64 {
            let a = addr.checked_add(i).ok_or(FaultReason::Unmapped)?;
            self.space.find(a).ok_or(FaultReason::Unmapped)?;
        }
        let mut effect = StoreEffect::default();
        for (i, b) in bytes[..size as usize].iter().enumerate() {
            let e = self.write(addr + i as u64, 1, *b as u64, endian)?;
            effect.hit_code |= e.hit_code;
        }
        Ok(effect)
    }

    /// The host address of the 4 KiB page at `page` (aligned) when all of
    /// it is plain RAM in this view — writable and holding no translated
    /// code, when `write` — so generated code may access it directly.
    pub fn host_page(&mut self, page: u64, write: bool) -> Option<*mut u8> {
        let size = 1u64 << crate::tlb::HOST_PAGE_BITS;
        let r = self.space.find(page)?;
        if page.checked_add(size - 1)? > r.last() {
            return None;
        }
        let Target::Ram { block, offset } = r.target else {
            return None;
        };
        let off = (page - r.base + offset) as usize;
        let ram = &mut self.mem.ram[block];
        if ram.shared.is_some() {
            // Shared between threads: every access goes through atomics.
            return None;
        }
        if write {
            let g0 = off >> CODE_GRANULE_BITS;
            let g1 = (off + size as usize - 1) >> CODE_GRANULE_BITS;
            if ram.read_only || ram.code[g0..=g1].any() {
                return None;
            }
        }
        Some(ram.data[off..off + size as usize].as_mut_ptr())
    }

    /// Fetch instruction bytes for translation and mark their RAM as code.
    /// Only RAM holds code: fetching from a device window faults.
    pub fn fetch_code(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), FaultReason> {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr.checked_add(i as u64).ok_or(FaultReason::Unmapped)?;
            let r = self.space.find(a).ok_or(FaultReason::Unmapped)?;
            match r.target {
                Target::Ram { block, offset } => {
                    let off = a - r.base + offset;
                    let ram = &mut self.mem.ram[block];
                    let g = (off >> CODE_GRANULE_BITS) as usize;
                    if !ram.code[g] {
                        ram.mark_code(g);
                        self.mem.host_epoch += 1;
                        // Shared: mark before reading (see SharedRam).
                        if let Some(s) = &ram.shared {
                            s.mark_code(g as u64, ram.part);
                        }
                    }
                    ram.read_at(off as usize, std::slice::from_mut(b));
                }
                Target::Mmio { .. } => return Err(FaultReason::Unmapped),
            }
        }
        Ok(())
    }

    /// The (RAM block, granule) that guest address `addr` lies in, if RAM.
    pub fn code_granule(&self, addr: u64) -> Option<(usize, u64)> {
        let r = self.space.find(addr)?;
        match r.target {
            Target::Ram { block, offset } => {
                Some((block, (addr - r.base + offset) >> CODE_GRANULE_BITS))
            }
            Target::Mmio { .. } => None,
        }
    }

    /// Check `[addr, addr + len)` is writable RAM; Err(first bad address).
    pub fn check_ram(&self, addr: u64, len: u64) -> Result<(), u64> {
        let mut a = addr;
        let end = addr.checked_add(len).ok_or(addr)?;
        while a < end {
            let r = self.space.find(a).ok_or(a)?;
            match r.target {
                Target::Ram { block, .. } if !self.mem.ram[block].read_only => {}
                _ => return Err(a),
            }
            match r.last().checked_add(1) {
                Some(next) => a = next,
                None => break,
            }
        }
        Ok(())
    }

    /// Copy `data` into memory at `addr` (loaders): RAM only, no side effects.
    pub fn load_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), u64> {
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.checked_add(done as u64).ok_or(u64::MAX)?;
            let r = self.space.find(a).ok_or(a)?;
            let Target::Ram { block, offset } = r.target else {
                return Err(a);
            };
            let off = (a - r.base + offset) as usize;
            let avail = (r.last() - a + 1).min((data.len() - done) as u64) as usize;
            let Memory {
                ram, code_writes, ..
            } = &mut *self.mem;
            ram[block].open(off as u64, avail as u64, &mut |g| {
                code_writes.push((block, g))
            });
            ram[block].write_at(off, &data[done..done + avail]);
            done += avail;
        }
        if !data.is_empty() {
            self.mem.loaded.push((addr, data.len() as u64));
        }
        Ok(())
    }
}

/// A zeroed buffer from the allocator's zeroed path (pages the guest never
/// touches cost nothing), with allocation failure reported as an error.
fn zeroed(size: u64) -> Result<Vec<u8>, String> {
    let n = usize::try_from(size).map_err(|_| format!("{size} bytes do not fit this host"))?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(n).map_err(|e| e.to_string())?;
    // SAFETY: `layout` has non-zero size (n > 0 checked above).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(format!("cannot allocate {} MiB of guest RAM", size >> 20));
    }
    // SAFETY: `ptr` was just allocated by the global allocator with the
    // layout of `[u8; n]`, is zero-initialised (valid u8s), and is owned by
    // nothing else; capacity and length equal the allocated size.
    Ok(unsafe { Vec::from_raw_parts(ptr, n, n) })
}

fn size_mask(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size * 8)) - 1
    }
}

fn swap(v: u64, size: u8) -> u64 {
    match size {
        2 => (v as u16).swap_bytes() as u64,
        4 => (v as u32).swap_bytes() as u64,
        8 => v.swap_bytes(),
        _ => v,
    }
}

fn from_bytes(b: &[u8], endian: Endian) -> u64 {
    let mut v = 0u64;
    match endian {
        Endian::Little => {
            for (i, x) in b.iter().enumerate() {
                v |= (*x as u64) << (8 * i);
            }
        }
        Endian::Big => {
            for x in b {
                v = (v << 8) | *x as u64;
            }
        }
    }
    v
}

fn to_bytes(b: &mut [u8], v: u64, endian: Endian) {
    let n = b.len();
    for (i, x) in b.iter_mut().enumerate() {
        let shift = match endian {
            Endian::Little => 8 * i,
            Endian::Big => 8 * (n - 1 - i),
        };
        *x = (v >> shift) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> (AddressSpace, Memory) {
        let mut mem = Memory::default();
        mem.ram.push(RamBlock::new("/ram", 0x1000, false).unwrap());
        let mut s = AddressSpace::new("sys");
        s.map(Region {
            name: "ram".into(),
            base: 0x8000,
            size: 0x1000,
            target: Target::Ram {
                block: 0,
                offset: 0,
            },
        })
        .unwrap();
        (s, mem)
    }

    #[test]
    fn endianness_is_per_access() {
        let (s, mut mem) = space();
        let mut bus = Bus {
            space: &s,
            mem: &mut mem,
        };
        bus.write(0x8000, 4, 0x1122_3344, Endian::Little).unwrap();
        assert_eq!(bus.read(0x8000, 1, Endian::Little).unwrap(), 0x44);
        assert_eq!(bus.read(0x8000, 4, Endian::Big).unwrap(), 0x4433_2211);
        bus.write(0x8004, 2, 0xaabb, Endian::Big).unwrap();
        assert_eq!(bus.read(0x8004, 1, Endian::Little).unwrap(), 0xaa);
    }

    #[test]
    fn unmapped_and_straddling_accesses_fault() {
        let (s, mut mem) = space();
        let mut bus = Bus {
            space: &s,
            mem: &mut mem,
        };
        assert_eq!(
            bus.read(0x7fff, 1, Endian::Little),
            Err(FaultReason::Unmapped)
        );
        assert_eq!(
            bus.read(0x8ffe, 4, Endian::Little),
            Err(FaultReason::Unmapped)
        );
        assert_eq!(
            bus.read(u64::MAX, 8, Endian::Little),
            Err(FaultReason::Unmapped)
        );
        assert!(bus.write(0x8ffe, 4, 0, Endian::Little).is_err());
        assert_eq!(
            bus.read(0x8ffe, 2, Endian::Little),
            Ok(0),
            "no partial write"
        );
    }

    #[test]
    fn overlapping_regions_are_refused() {
        let (mut s, _) = space();
        let err = s
            .map(Region {
                name: "uart".into(),
                base: 0x8ff0,
                size: 0x100,
                target: Target::Mmio { device: 0 },
            })
            .unwrap_err();
        assert!(err.contains("overlaps ram"), "{err}");
    }

    #[test]
    fn stores_into_another_threads_code_reach_it() {
        // Two partitions (threads) with handles on one shared block.
        let (s, mut machine) = space();
        machine.ram[0].share();
        let part = |p: usize, m: &Memory| Memory {
            ram: vec![m.ram[0].shared_handle(p).unwrap()],
            ..Memory::default()
        };
        let (mut m0, mut m1) = (part(0, &machine), part(1, &machine));
        let mut b0 = Bus {
            space: &s,
            mem: &mut m0,
        };
        let mut buf = [0u8; 4];
        b0.fetch_code(0x8400, &mut buf).unwrap(); // partition 0 translates
        let mut b1 = Bus {
            space: &s,
            mem: &mut m1,
        };
        // A store elsewhere, and partition 1's own view: nothing for 0.
        b1.write(0x8800, 4, 1, Endian::Little).unwrap();
        m0.take_remote_code_writes();
        assert!(m0.code_writes.is_empty());
        // Into partition 0's code, twice: one entry until 0 looks.
        let mut b1 = Bus {
            space: &s,
            mem: &mut m1,
        };
        b1.write(0x8404, 4, 2, Endian::Little).unwrap();
        b1.atomic(0x8408, 4, Endian::Little, &mut |v| Some(v + 1))
            .unwrap();
        assert!(m1.code_writes.is_empty(), "not partition 1's code");
        m1.take_remote_code_writes();
        assert!(m1.code_writes.is_empty());
        m0.take_remote_code_writes();
        assert_eq!(m0.code_writes, vec![(0, 0x400 >> CODE_GRANULE_BITS)]);
        // Unmarked now: the next store is not logged until 0 translates
        // from the granule again.
        m0.code_writes.clear();
        let mut b1 = Bus {
            space: &s,
            mem: &mut m1,
        };
        b1.write(0x8404, 4, 3, Endian::Little).unwrap();
        m0.take_remote_code_writes();
        assert!(m0.code_writes.is_empty());
        let mut b0 = Bus {
            space: &s,
            mem: &mut m0,
        };
        b0.fetch_code(0x8404, &mut buf).unwrap();
        assert_eq!(buf, [3, 0, 0, 0], "the new bytes");
        let mut b1 = Bus {
            space: &s,
            mem: &mut m1,
        };
        b1.write(0x8404, 4, 4, Endian::Little).unwrap();
        m0.take_remote_code_writes();
        assert_eq!(m0.code_writes.len(), 1);
    }

    #[test]
    fn stores_to_code_are_reported() {
        let (s, mut mem) = space();
        let mut bus = Bus {
            space: &s,
            mem: &mut mem,
        };
        let mut buf = [0u8; 4];
        bus.fetch_code(0x8400, &mut buf).unwrap();
        assert!(!bus.write(0x8000, 4, 1, Endian::Little).unwrap().hit_code);
        assert!(bus.write(0x8402, 2, 1, Endian::Little).unwrap().hit_code);
        assert_eq!(mem.code_writes, vec![(0, 1)]);
    }

    #[test]
    fn unmap_splits_regions_and_keeps_offsets() {
        let (mut s, mut mem) = space();
        let gone = s.unmap(0x8400, 0x200).unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(
            gone[0].target,
            Target::Ram {
                block: 0,
                offset: 0x400
            }
        );
        let r = s.regions();
        assert_eq!((r[0].base, r[0].size), (0x8000, 0x400));
        assert_eq!((r[1].base, r[1].size), (0x8600, 0xa00));
        assert_eq!(
            r[1].target,
            Target::Ram {
                block: 0,
                offset: 0x600
            }
        );
        let mut bus = Bus {
            space: &s,
            mem: &mut mem,
        };
        bus.write(0x8600, 1, 9, Endian::Little).unwrap();
        assert_eq!(
            bus.read(0x8500, 1, Endian::Little),
            Err(FaultReason::Unmapped)
        );
        assert_eq!(mem.ram[0].bytes()[0x600], 9);
        assert!(s.unmap(0, u64::MAX).is_ok());
        assert!(s.regions().is_empty());
        s.map(Region {
            name: "uart".into(),
            base: 0x1000,
            size: 0x100,
            target: Target::Mmio { device: 0 },
        })
        .unwrap();
        assert!(
            s.unmap(0x1010, 0x10).is_err(),
            "device windows do not split"
        );
        assert_eq!(s.regions().len(), 1);
    }
}
