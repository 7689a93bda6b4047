//! Guest image loading: ELF files (by their physical load addresses) and
//! raw binaries.

use crate::memory::Bus;

/// A loading failure, said in terms of the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is not an ELF image hemu can load.
    #[error("not a loadable ELF file: {0}")]
    BadElf(String),
    /// The image overlaps one loaded before it.
    #[error(
        "[{start:#x}..{end:#x}) overlaps {other} loaded at [{other_start:#x}..{other_end:#x})"
    )]
    Overlap {
        /// This image's overlapping range.
        start: u64,
        /// End (exclusive).
        end: u64,
        /// The other image.
        other: String,
        /// Its range.
        other_start: u64,
        /// End (exclusive).
        other_end: u64,
    },
    /// A segment lands outside RAM.
    #[error(
        "segment at {addr:#x} (+{size:#x} bytes) does not fit in RAM (first bad address {bad:#x})"
    )]
    DoesNotFit {
        /// Segment start.
        addr: u64,
        /// Segment size in memory.
        size: u64,
        /// First address that is not RAM.
        bad: u64,
    },
}

/// What an ELF file says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// Entry point.
    pub entry: u64,
    /// `e_machine`.
    pub machine: u16,
    /// 64-bit class?
    pub is_64: bool,
    /// Little-endian data?
    pub little_endian: bool,
}

/// Peek at an ELF header without loading.
pub fn elf_info(data: &[u8]) -> Result<ElfInfo, LoadError> {
    let elf = goblin::elf::Elf::parse(data).map_err(|e| LoadError::BadElf(e.to_string()))?;
    Ok(ElfInfo {
        entry: elf.entry,
        machine: elf.header.e_machine,
        is_64: elf.is_64,
        little_endian: elf.little_endian,
    })
}

/// The physical ranges `[start, end)` an ELF image's segments occupy.
pub fn elf_ranges(data: &[u8]) -> Result<Vec<(u64, u64)>, LoadError> {
    let elf = goblin::elf::Elf::parse(data).map_err(|e| LoadError::BadElf(e.to_string()))?;
    Ok(elf
        .program_headers
        .iter()
        .filter(|ph| ph.p_type == goblin::elf::program_header::PT_LOAD && ph.p_memsz > 0)
        .map(|ph| (ph.p_paddr, ph.p_paddr.saturating_add(ph.p_memsz)))
        .collect())
}

/// Load the `PT_LOAD` segments of an ELF image at their physical addresses
/// (zero-filling `.bss`); returns the header information.
pub fn load_elf(bus: &mut Bus<'_>, data: &[u8]) -> Result<ElfInfo, LoadError> {
    let info = elf_info(data)?;
    let elf = goblin::elf::Elf::parse(data).map_err(|e| LoadError::BadElf(e.to_string()))?;
    let mut loaded = 0;
    for ph in elf.program_headers.iter() {
        if ph.p_type != goblin::elf::program_header::PT_LOAD || ph.p_memsz == 0 {
            continue;
        }
        let off = ph.p_offset as usize;
        let file = off
            .checked_add(ph.p_filesz as usize)
            .and_then(|end| data.get(off..end))
            .ok_or_else(|| {
                LoadError::BadElf(format!(
                    "segment at offset {off:#x} runs past the end of the file"
                ))
            })?;
        if ph.p_filesz > ph.p_memsz {
            return Err(LoadError::BadElf(
                "segment file size exceeds memory size".into(),
            ));
        }
        let fits = |bad| LoadError::DoesNotFit {
            addr: ph.p_paddr,
            size: ph.p_memsz,
            bad,
        };
        // .bss beyond 1 GiB is not a plausible guest image.
        let zeros = vec![0u8; (ph.p_memsz - ph.p_filesz).min(1 << 30) as usize];
        if (ph.p_memsz - ph.p_filesz) as usize != zeros.len() {
            return Err(fits(ph.p_paddr));
        }
        bus.load_bytes(ph.p_paddr, file).map_err(fits)?;
        bus.load_bytes(ph.p_paddr + ph.p_filesz, &zeros)
            .map_err(fits)?;
        loaded += 1;
    }
    if loaded == 0 {
        return Err(LoadError::BadElf("no loadable segments".into()));
    }
    Ok(info)
}

/// Load a raw image at `addr`.
pub fn load_raw(bus: &mut Bus<'_>, addr: u64, data: &[u8]) -> Result<(), LoadError> {
    bus.load_bytes(addr, data)
        .map_err(|bad| LoadError::DoesNotFit {
            addr,
            size: data.len() as u64,
            bad,
        })
}
