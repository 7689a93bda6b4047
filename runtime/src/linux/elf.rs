//! Loading a static Linux ELF program into a process's memory by its
//! virtual addresses, and building the initial stack (argv, envp, auxv)
//! the way the Linux kernel does.
//!
//! The headers are parsed with goblin, as the machine loader does; a
//! malformed file is an error, never a panic.

use super::mm::{Mm, STACK_SIZE};
use crate::ir::Endian;

/// `e_type` of a fixed-address executable.
const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent one (static-pie).
const ET_DYN: u16 = 3;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;

/// What the ELF header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfHeader {
    /// ELFCLASS64?
    pub is_64: bool,
    /// Data byte order.
    pub endian: Endian,
    /// `e_type`.
    pub etype: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// `e_phnum`.
    pub phnum: u16,
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Phdr {
    ptype: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

/// Parse the ELF header (enough to choose a frontend).
pub fn header(data: &[u8]) -> Result<ElfHeader, String> {
    if data.len() < 16 || &data[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    let header_size = if data[4] == 2 { 64 } else { 52 };
    if data.len() < header_size {
        return Err("truncated ELF file".into());
    }
    let h =
        goblin::elf::Elf::parse_header(data).map_err(|e| format!("malformed ELF header: {e}"))?;
    Ok(ElfHeader {
        is_64: data[4] == 2,
        endian: if data[5] == 2 {
            Endian::Big
        } else {
            Endian::Little
        },
        etype: h.e_type,
        machine: h.e_machine,
        entry: h.e_entry,
        phoff: h.e_phoff,
        phentsize: h.e_phentsize,
        phnum: h.e_phnum,
    })
}

/// Parse the ELF header and the program headers.
fn parse(data: &[u8]) -> Result<(ElfHeader, Vec<Phdr>), String> {
    let h = header(data)?;
    let elf = goblin::elf::Elf::parse(data).map_err(|e| {
        format!("program headers run past the end of the file or are malformed: {e}")
    })?;
    if elf.program_headers.is_empty() {
        return Err("no program headers".into());
    }
    let phs = elf
        .program_headers
        .iter()
        .map(|p| Phdr {
            ptype: p.p_type,
            offset: p.p_offset,
            vaddr: p.p_vaddr,
            filesz: p.p_filesz,
            memsz: p.p_memsz,
            align: p.p_align,
        })
        .collect();
    Ok((h, phs))
}

/// Where a program landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// Entry point (with the load bias).
    pub entry: u64,
    /// Address of the program headers in memory, if a segment holds them.
    pub phdr: Option<u64>,
    /// The program headers as bytes, to copy onto the stack when no
    /// segment holds them.
    pub phdr_bytes: Vec<u8>,
    /// `e_phentsize`.
    pub phent: u64,
    /// `e_phnum`.
    pub phnum: u64,
    /// First byte after the highest segment: where `brk` starts.
    pub end: u64,
}

/// Map and fill the `PT_LOAD` segments of `data`.
pub fn load(mm: &mut Mm, data: &[u8]) -> Result<Loaded, String> {
    let (h, phs) = parse(data)?;
    if phs.iter().any(|p| p.ptype == PT_INTERP) {
        return Err(
            "dynamically linked programs are not supported (PT_INTERP); link with -static".into(),
        );
    }
    let bias = match h.etype {
        ET_EXEC => 0,
        ET_DYN => {
            // Like Linux's ELF_ET_DYN_BASE: two thirds up the address
            // space, aligned as the segments ask.
            let align = phs
                .iter()
                .filter(|p| p.ptype == PT_LOAD)
                .map(|p| p.align.clamp(mm.page, 1 << 21))
                .max()
                .unwrap_or(mm.page);
            let align = if align.is_power_of_two() {
                align
            } else {
                mm.page
            };
            (mm.task_size / 3 * 2) & !(align - 1)
        }
        t => return Err(format!("not an executable (ELF type {t})")),
    };
    let mut end = 0u64;
    let mut loaded = 0;
    for p in phs.iter().filter(|p| p.ptype == PT_LOAD && p.memsz > 0) {
        if p.filesz > p.memsz {
            return Err("a segment's file size exceeds its memory size".into());
        }
        let file = usize::try_from(p.offset)
            .ok()
            .and_then(|o| Some((o, o.checked_add(usize::try_from(p.filesz).ok()?)?)))
            .and_then(|(o, e)| data.get(o..e))
            .ok_or("a segment runs past the end of the file")?;
        let outside = || {
            format!(
                "segment at {:#x} (+{:#x} bytes) is outside the user address space",
                p.vaddr, p.memsz
            )
        };
        let va = p.vaddr.checked_add(bias).ok_or_else(outside)?;
        let top = va.checked_add(p.memsz).ok_or_else(outside)?;
        let hi = mm.ceil(top).ok_or_else(outside)?;
        if hi > mm.mmap_top {
            return Err(outside());
        }
        let lo = mm.floor(va);
        let existing = mm.map_gaps(lo, hi, "[elf]").map_err(|_| {
            format!(
                "cannot allocate {} KiB for the segment at {:#x}",
                (hi - lo) >> 10,
                p.vaddr
            )
        })?;
        mm.write(va, file).map_err(|_| outside())?;
        // .bss: fresh pages are zero already; zero what an earlier segment
        // left in shared pages.
        let bss = va + p.filesz;
        for (e0, e1) in existing {
            let (z0, z1) = (bss.max(e0), top.min(e1));
            if z0 < z1 {
                mm.zero(z0, z1 - z0).map_err(|_| outside())?;
            }
        }
        end = end.max(top);
        loaded += 1;
    }
    if loaded == 0 {
        return Err("no loadable segments".into());
    }
    // Nothing was translated yet: the loader's writes need no invalidation.
    mm.mem.code_writes.clear();
    let phdr = phs
        .iter()
        .find(|p| p.ptype == PT_PHDR)
        .map(|p| p.vaddr.wrapping_add(bias))
        .or_else(|| {
            phs.iter()
                .find(|p| {
                    p.ptype == PT_LOAD
                        && p.offset <= h.phoff
                        && h.phoff - p.offset < p.filesz
                        && p.vaddr.checked_add(h.phoff - p.offset).is_some()
                })
                .map(|p| p.vaddr + (h.phoff - p.offset) + bias)
        });
    let n = usize::from(h.phentsize) * usize::from(h.phnum);
    let phdr_bytes = usize::try_from(h.phoff)
        .ok()
        .and_then(|o| data.get(o..o.checked_add(n)?))
        .unwrap_or_default()
        .to_vec();
    Ok(Loaded {
        entry: h.entry.wrapping_add(bias),
        phdr,
        phdr_bytes,
        phent: u64::from(h.phentsize),
        phnum: u64::from(h.phnum),
        end,
    })
}

/// Auxiliary-vector keys (the same on every Linux architecture).
pub mod at {
    #![allow(missing_docs)]
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
}

/// What goes on the initial stack.
pub struct StackInit<'a> {
    /// Arguments (argv[0] first).
    pub argv: &'a [Vec<u8>],
    /// Environment (`NAME=value`).
    pub envp: &'a [Vec<u8>],
    /// `AT_EXECFN`.
    pub execfn: &'a [u8],
    /// `AT_PLATFORM` (none when empty).
    pub platform: &'a [u8],
    /// `AT_RANDOM`'s 16 bytes.
    pub random: [u8; 16],
    /// Keys and values of the auxv entries that are plain numbers.
    pub aux: Vec<(u64, u64)>,
    /// Stack-pointer alignment.
    pub align: u64,
}

/// Map the stack and lay out argc, argv, envp and auxv on it as Linux
/// does; returns the initial stack pointer.
pub fn build_stack(mm: &mut Mm, init: &StackInit<'_>, loaded: &Loaded) -> Result<u64, String> {
    let w = mm.word;
    let strings: usize = init
        .argv
        .iter()
        .chain(init.envp)
        .map(|s| s.len() + 1)
        .sum::<usize>()
        + init.execfn.len()
        + 1;
    // Linux allows a quarter of the stack for arguments and environment.
    if strings as u64 > STACK_SIZE / 4 {
        return Err("the arguments and environment are too large".into());
    }
    let stack_lo = mm.stack_top - STACK_SIZE;
    mm.map_new(stack_lo, STACK_SIZE, "[stack]")
        .map_err(|_| "cannot allocate the stack".to_string())?;
    let fail = |_| "the initial stack does not fit".to_string();

    let mut p = mm.stack_top - w; // a null word at the very top
    mm.write_word(p, 0).map_err(fail)?;
    p -= init.execfn.len() as u64 + 1;
    let execfn = p;
    mm.write(p, &[init.execfn, b"\0"].concat()).map_err(fail)?;
    // argv[0] lowest, then the rest of argv, then envp.
    let area: u64 = init
        .argv
        .iter()
        .chain(init.envp)
        .map(|s| s.len() as u64 + 1)
        .sum();
    p -= area;
    let mut ptrs = Vec::new();
    let mut q = p;
    for s in init.argv.iter().chain(init.envp) {
        ptrs.push(q);
        mm.write(q, &[s.as_slice(), b"\0"].concat()).map_err(fail)?;
        q += s.len() as u64 + 1;
    }
    let platform = if init.platform.is_empty() {
        None
    } else {
        p -= init.platform.len() as u64 + 1;
        mm.write(p, &[init.platform, b"\0"].concat())
            .map_err(fail)?;
        Some(p)
    };
    p = (p - 16) & !15;
    let random = p;
    mm.write(p, &init.random).map_err(fail)?;
    let phdr = match loaded.phdr {
        Some(a) => a,
        None => {
            p = (p - loaded.phdr_bytes.len() as u64) & !(w - 1);
            mm.write(p, &loaded.phdr_bytes).map_err(fail)?;
            p
        }
    };

    let mut aux = vec![
        (at::PHDR, phdr),
        (at::PHENT, loaded.phent),
        (at::PHNUM, loaded.phnum),
        (at::ENTRY, loaded.entry),
    ];
    aux.extend(init.aux.iter().copied());
    aux.push((at::RANDOM, random));
    aux.push((at::EXECFN, execfn));
    if let Some(a) = platform {
        aux.push((at::PLATFORM, a));
    }
    aux.push((at::NULL, 0));

    let argc = init.argv.len() as u64;
    let envc = init.envp.len() as u64;
    let words = 1 + argc + 1 + envc + 1 + 2 * aux.len() as u64;
    let sp = (p - words * w) & !(init.align.max(w) - 1);
    let mut v = Vec::with_capacity(words as usize);
    v.push(argc);
    v.extend(&ptrs[..argc as usize]);
    v.push(0);
    v.extend(&ptrs[argc as usize..]);
    v.push(0);
    for (k, x) in aux {
        v.push(k);
        v.push(x);
    }
    let bytes: Vec<u8> = v.iter().flat_map(|x| mm.encode(*x, w as usize)).collect();
    mm.write(sp, &bytes).map_err(fail)?;
    mm.mem.code_writes.clear();
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 with one PT_LOAD of `code` at `vaddr`.
    fn elf64(vaddr: u64, code: &[u8], memsz: u64) -> Vec<u8> {
        let mut d = vec![0u8; 64 + 56];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[6] = 1;
        d[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        d[18..20].copy_from_slice(&243u16.to_le_bytes());
        d[24..32].copy_from_slice(&vaddr.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = &mut d[64..];
        ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
        ph[8..16].copy_from_slice(&120u64.to_le_bytes());
        ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
        ph[32..40].copy_from_slice(&(code.len() as u64).to_le_bytes());
        ph[40..48].copy_from_slice(&memsz.to_le_bytes());
        d.extend_from_slice(code);
        d
    }

    fn mm() -> Mm {
        Mm::new(4096, Endian::Little, 64)
    }

    #[test]
    fn unaligned_segment_with_bss() {
        let mut m = mm();
        let d = elf64(0x10123, &[1, 2, 3], 0x2000);
        let l = load(&mut m, &d).unwrap();
        assert_eq!(l.entry, 0x10123);
        assert_eq!(l.end, 0x12123);
        assert_eq!(m.read_int(0x10123, 4), Ok(0x030201));
        assert_eq!(m.read_int(0x12000, 1), Ok(0));
        assert!(m.read_int(0x13000, 1).is_err());
        assert_eq!(l.phdr, None, "headers are not in a segment");
    }

    #[test]
    fn malformed_files_are_errors() {
        let good = elf64(0x10000, &[0; 8], 8);
        for (what, bad) in [
            ("empty", Vec::new()),
            ("short", good[..30].to_vec()),
            ("cut phdrs", good[..100].to_vec()),
            ("filesz > memsz", elf64(0x10000, &[0; 8], 4)),
            ("no room", elf64(u64::MAX - 4, &[0; 8], 8)),
            ("huge", elf64(0x10000, &[0; 8], u64::MAX / 2)),
        ] {
            assert!(load(&mut mm(), &bad).is_err(), "{what}");
        }
        let mut cut = good.clone();
        cut.truncate(good.len() - 1);
        assert!(load(&mut mm(), &cut).unwrap_err().contains("past the end"));
    }

    #[test]
    fn stack_layout() {
        let mut m = mm();
        let d = elf64(0x10000, &[0; 8], 8);
        let l = load(&mut m, &d).unwrap();
        let argv = vec![b"prog".to_vec(), b"-x".to_vec()];
        let envp = vec![b"A=1".to_vec()];
        let init = StackInit {
            argv: &argv,
            envp: &envp,
            execfn: b"prog",
            platform: b"plat",
            random: [7; 16],
            aux: vec![(at::PAGESZ, 4096)],
            align: 16,
        };
        let sp = build_stack(&mut m, &init, &l).unwrap();
        assert_eq!(sp % 16, 0);
        assert_eq!(m.read_word(sp), Ok(2));
        let a1 = m.read_word(sp + 16).unwrap();
        assert_eq!(m.read_cstr(a1, 100).unwrap(), b"-x");
        assert_eq!(m.read_word(sp + 24), Ok(0));
        let e0 = m.read_word(sp + 32).unwrap();
        assert_eq!(m.read_cstr(e0, 100).unwrap(), b"A=1");
        let mut a = sp + 48;
        let mut seen = Vec::new();
        loop {
            let (k, v) = (m.read_word(a).unwrap(), m.read_word(a + 8).unwrap());
            if k == at::NULL {
                break;
            }
            seen.push(k);
            if k == at::PHDR {
                assert_eq!(m.read_int(v, 4), Ok(u64::from(PT_LOAD)), "copied phdrs");
            }
            if k == at::RANDOM {
                assert_eq!(m.read_int(v, 1), Ok(7));
            }
            a += 16;
        }
        for k in [at::PHDR, at::PAGESZ, at::RANDOM, at::EXECFN, at::PLATFORM] {
            assert!(seen.contains(&k), "{k}");
        }
    }
}
