//! `cargo xtask traces`, MIPS part: reference traces of the MIPS user-mode
//! guests from QEMU 7.2's `qemu-mips` and `qemu-mipsel`, replayed
//! instruction by instruction by `tests/difftest.rs`.
//!
//! QEMU runs each guest of [`crate::mips::USER`] (both byte orders) as
//! `env -i qemu-mips[el] -singlestep -d in_asm,cpu,fpu,nochain <elf>` in
//! the workspace root. With `-singlestep` it logs the state *before* every
//! instruction, delay slots included, so the state after instruction k is
//! the dump of instruction k+1. The trace keeps what changed:
//!
//! ```text
//! # hemu reference trace v1
//! # source: qemu-mips 7.2.22 (Linux user mode) -singlestep, empty environment, cwd: the workspace root; guest: tests/guests/mips-user/bin/ops.elf
//! mode user
//! argv tests/guests/mips-user/bin/ops.elf
//! arch mips endian=big
//! init pc=004000f0 r1=00000000 ... r31=00000000 hi=00000000 lo=00000000 fcsr=00000000 f0=0000000000000000 ... f31=...
//! step pc=004000f0 insn=3c100041 r16=00410000
//! ...
//! step pc=004003d0 insn=0000000c
//! exit status=00
//! ```
//!
//! - registers: r1..r31 (r29 is sp: QEMU's initial stack pointer, which a
//!   replay compares as an offset), hi, lo, the FPU's 64-bit registers
//!   f0..f31 and FCSR (QEMU's FCR31). QEMU runs FPXX programs with
//!   Status.FR = 1; with FR = 0 (`fp32`, an FP32-ABI program) it prints
//!   even/odd pairs, whose halves are each register's low word;
//! - `step`: the instruction's address and bits (from the ELF), then every
//!   register it changed — a branch's delay slot is a step of its own, a
//!   system call (`syscall`) one step with its results (v0, a3);
//! - the last step is the `exit_group` system call, with no registers, and
//!   `exit status=` gives the program's exit status in hex.

use crate::mips::{TOOLCHAINS, USER};
use std::path::Path;
use std::process::{Command, Stdio};

/// The most instructions a trace may have.
const MAX_STEPS: usize = 5000;
/// `syscall`.
const SYSCALL: u32 = 0x0000_000c;

/// One QEMU register dump.
#[derive(Clone, Debug, PartialEq)]
struct Dump {
    pc: u32,
    /// r0..r31, hi, lo, fcsr, f0..f31 (as u64), then CP0 Status, Cause
    /// and EPC.
    regs: Vec<u64>,
}

/// Index of CP0 Status in [`Dump::regs`] (Cause and EPC follow).
const C0: usize = 35 + 32;

/// Names of [`Dump::regs`] (r0 first; it is never written).
fn reg_name(i: usize) -> String {
    match i {
        0..=31 => format!("r{i}"),
        32 => "hi".into(),
        33 => "lo".into(),
        34 => "fcsr".into(),
        C0 => "c0_status".into(),
        68 => "c0_cause".into(),
        69 => "c0_epc".into(),
        _ => format!("f{}", i - 35),
    }
}

fn hex32(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// Parses the dumps of a `-d cpu,fpu` log.
fn parse_log(log: &str) -> Result<Vec<Dump>, String> {
    let mut dumps = Vec::new();
    let mut cur: Option<Dump> = None;
    // Inside the dump of an annulled delay slot (see below).
    let mut skipping = false;
    // The dump's FPU mode (Status.FR), from its CP1 line.
    let mut fr1 = true;
    for line in log.lines() {
        if skipping && !line.starts_with("pc=") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("pc=") {
            if let Some(d) = cur.take() {
                dumps.push(d);
            }
            let f: Vec<&str> = rest.split_whitespace().collect();
            let pc = f.first().and_then(|s| hex32(s)).ok_or("bad pc= line")?;
            let hi = f.iter().find_map(|s| s.strip_prefix("HI=")).and_then(hex32);
            let lo = f.iter().find_map(|s| s.strip_prefix("LO=")).and_then(hex32);
            let mut regs = vec![0u64; C0 + 3];
            regs[32] = u64::from(hi.ok_or("no HI=")?);
            regs[33] = u64::from(lo.ok_or("no LO=")?);
            // "ds HFLAGS BTARGET BCOND": the delay slot of a branch-likely
            // (hflags BL = 0x1800) that was not taken (bcond 0) is logged
            // but annulled, not executed: it is no step.
            let ds = f.iter().position(|s| *s == "ds");
            let word = |k: usize| ds.and_then(|i| f.get(i + k)).and_then(|s| hex32(s));
            let annulled = matches!((word(1), word(3)), (Some(h), Some(0)) if h & 0x1800 == 0x1800);
            cur = (!annulled).then_some(Dump { pc, regs });
            skipping = annulled;
        } else if let Some(rest) = line.strip_prefix("GPR") {
            let d = cur.as_mut().ok_or("GPR line before pc=")?;
            let (base, vals) = rest.split_once(':').ok_or("bad GPR line")?;
            let base: usize = base.trim().parse().map_err(|_| "bad GPR index")?;
            // "r0 00000000 at 00000000 ...": name, value pairs.
            let f: Vec<&str> = vals.split_whitespace().collect();
            for (k, pair) in f.chunks(2).enumerate() {
                let v = pair.get(1).and_then(|s| hex32(s)).ok_or("bad GPR value")?;
                if let Some(slot) = d.regs.get_mut(base + k).filter(|_| base + k < 32) {
                    *slot = u64::from(v);
                }
            }
        } else if let Some(rest) = line.strip_prefix("CP0 Status") {
            // "CP0 Status  0x... Cause   0x... EPC    0x...".
            let d = cur.as_mut().ok_or("CP0 line before pc=")?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let at = |k: &str| f.iter().position(|s| *s == k).and_then(|i| f.get(i + 1));
            d.regs[C0] = u64::from(f.first().and_then(|s| hex32(s)).ok_or("bad Status")?);
            d.regs[C0 + 1] = u64::from(at("Cause").and_then(|s| hex32(s)).ok_or("bad Cause")?);
            d.regs[C0 + 2] = u64::from(at("EPC").and_then(|s| hex32(s)).ok_or("bad EPC")?);
        } else if line.starts_with("CP1 FCR0") {
            let d = cur.as_mut().ok_or("CP1 line before pc=")?;
            let f: Vec<&str> = line.split_whitespace().collect();
            let at = f.iter().position(|s| *s == "FCR31").ok_or("no FCR31")?;
            d.regs[34] = u64::from(f.get(at + 1).and_then(|s| hex32(s)).ok_or("bad FCR31")?);
            let fr = f
                .iter()
                .position(|s| *s == "SR.FR")
                .and_then(|i| f.get(i + 1));
            fr1 = fr == Some(&"1");
        } else if let Some((name, rest)) = line.trim_start().split_once(": w:") {
            let Some(n) = name.strip_prefix('f').and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            let d = cur.as_mut().ok_or("FPU line before pc=")?;
            let v = rest
                .split_whitespace()
                .find_map(|s| s.strip_prefix("d:"))
                .and_then(|s| u64::from_str_radix(s, 16).ok())
                .ok_or("bad FPU register line")?;
            if fr1 && n < 32 {
                d.regs[35 + n] = v;
            } else if n < 31 {
                // FR = 0: QEMU prints the even registers, each with its
                // odd partner as the double's high word; a register's
                // high half is not shown (it stays 0 in these programs).
                d.regs[35 + n] = v & 0xffff_ffff;
                d.regs[35 + n + 1] = v >> 32;
            }
        }
    }
    dumps.extend(cur);
    Ok(dumps)
}

/// The 32-bit word at `addr` of a 32-bit ELF file of either byte order.
fn elf_word(elf: &[u8], addr: u32) -> Option<u32> {
    let big = *elf.get(5)? == 2;
    let rd16 = |o: usize| -> Option<u32> {
        let b = elf.get(o..o + 2)?;
        Some(u32::from(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        }))
    };
    let rd32 = |o: usize| -> Option<u32> {
        let b: [u8; 4] = elf.get(o..o + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let (phoff, phentsize, phnum) = (rd32(28)?, rd16(42)?, rd16(44)?);
    for i in 0..phnum {
        let ph = (phoff + i * phentsize) as usize;
        if rd32(ph)? != 1 {
            continue;
        }
        let (off, vaddr, filesz) = (rd32(ph + 4)?, rd32(ph + 8)?, rd32(ph + 16)?);
        if addr >= vaddr && addr.checked_add(4)? <= vaddr.checked_add(filesz)? {
            return rd32((off + (addr - vaddr)) as usize);
        }
    }
    None
}

/// `qemu-mips --version` → `7.2.22`.
fn qemu_version(qemu: &str) -> Result<String, String> {
    let out = Command::new(qemu)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {qemu} ({e}): install the Debian package qemu-user"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| format!("cannot parse `{qemu} --version`: {text}"))
}

/// Records `tests/traces/mips-user-<name>[el].jsonl` for every MIPS user
/// guest; SKIPPED without `qemu-mips`/`qemu-mipsel`.
pub fn record(root: &Path) -> Result<(), String> {
    for (_, suffix, arch) in TOOLCHAINS {
        let qemu = format!("qemu-{arch}");
        let Ok(version) = qemu_version(&qemu) else {
            println!("SKIPPED: MIPS traces ({qemu} not found: install qemu-user)");
            continue;
        };
        for name in USER {
            let rel = format!("tests/guests/mips-user/bin/{name}{suffix}.elf");
            let elf = std::fs::read(root.join(&rel))
                .map_err(|e| format!("cannot read {rel} ({e}); run `cargo xtask guests`"))?;
            let out = Command::new(&qemu)
                .env_clear()
                .current_dir(root)
                .args(["-singlestep", "-d", "in_asm,cpu,fpu,nochain", &rel])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run {qemu}: {e}"))?;
            let status = out
                .status
                .code()
                .ok_or_else(|| format!("{qemu} {rel} was killed"))?;
            let log = String::from_utf8_lossy(&out.stderr);
            let source = format!(
                "{qemu} {version} (Linux user mode) -singlestep, empty environment, \
                 cwd: the workspace root; guest: {rel}"
            );
            let text = convert(&log, &elf, &source, &rel, arch, status)
                .map_err(|e| format!("{qemu} {rel}: {e}"))?;
            crate::write_trace(root, &format!("mips-user-{name}{suffix}"), &text)?;
        }
    }
    record_system(root)
}

/// The trace text of one run (see the module documentation).
fn convert(
    log: &str,
    elf: &[u8],
    source: &str,
    argv0: &str,
    arch: &str,
    status: i32,
) -> Result<String, String> {
    let dumps = parse_log(log)?;
    if dumps.is_empty() || dumps.len() > MAX_STEPS {
        return Err(format!("{} instructions logged", dumps.len()));
    }
    let endian = if arch == "mips" { "big" } else { "little" };
    let mut out = format!(
        "# hemu reference trace v1\n# source: {source}\nmode user\nargv {argv0}\narch mips endian={endian}\n"
    );
    let first = &dumps[0];
    out.push_str(&format!("init pc={:08x}", first.pc));
    for (i, v) in first.regs.iter().enumerate().take(C0).skip(1) {
        let w = if i >= 35 { 16 } else { 8 };
        out.push_str(&format!(" {}={v:0w$x}", reg_name(i)));
    }
    out.push('\n');
    for (k, cur) in dumps.iter().enumerate() {
        let insn = elf_word(elf, cur.pc)
            .ok_or_else(|| format!("pc {:#x} is outside the ELF's segments", cur.pc))?;
        out.push_str(&format!("step pc={:08x} insn={insn:08x}", cur.pc));
        let Some(next) = dumps.get(k + 1) else {
            if insn != SYSCALL {
                return Err(format!(
                    "the last instruction ({:#x}: {insn:08x}) is not a system call",
                    cur.pc
                ));
            }
            out.push_str(&format!("\nexit status={:02x}\n", status & 0xff));
            return Ok(out);
        };
        for (i, (a, b)) in cur.regs.iter().zip(&next.regs).enumerate().take(C0) {
            if a != b {
                let w = if i >= 35 { 16 } else { 8 };
                out.push_str(&format!(" {}={b:0w$x}", reg_name(i)));
            }
        }
        out.push('\n');
    }
    Err("the log ended without a last instruction".into())
}

/// `sync`: the end marker of the bare-metal trace (see [`record_system`]).
const SYNC: u32 = 0x0000_000f;
/// How long QEMU runs a bare-metal guest (it never stops by itself on
/// Malta, which has no finisher).
const SYSTEM_SECONDS: &str = "5";

/// Records `tests/traces/mips-sys-exc[el].jsonl`: the bare-metal guest
/// `tests/guests/mips/bin/exc[el].elf` on QEMU's Malta board
/// (`qemu-system-mips[el] -M malta -cpu 24Kf -kernel`, `-icount shift=0
/// -singlestep -d cpu,nochain`), from its entry point (after Malta's boot loader, whose
/// registers the `init` line gives) to its first `sync`, which marks where
/// the guest starts using devices that only `machines/mips.yaml` has. The
/// format is the user traces' (`mode system`, no `argv`, no `exit`; the
/// last line is `end pc=` at the marker) with the registers r1..r31, hi,
/// lo and CP0 Status, Cause and EPC (`c0_status`, `c0_cause`, `c0_epc`);
/// an exception shows as the next step being at the vector.
pub fn record_system(root: &Path) -> Result<(), String> {
    for (_, suffix, arch) in TOOLCHAINS {
        let qemu = format!("qemu-system-{arch}");
        let Ok(version) = qemu_version(&qemu) else {
            println!("SKIPPED: MIPS system traces ({qemu} not found: install qemu-system-mips)");
            continue;
        };
        let rel = format!("tests/guests/mips/bin/exc{suffix}.elf");
        let elf = std::fs::read(root.join(&rel))
            .map_err(|e| format!("cannot read {rel} ({e}); run `cargo xtask guests`"))?;
        let log_path =
            std::env::temp_dir().join(format!("hemu-mips-sys-{arch}-{}.log", std::process::id()));
        let status = Command::new("timeout")
            .args(["-s", "TERM", SYSTEM_SECONDS, &qemu])
            .args(["-M", "malta", "-cpu", "24Kf", "-nographic", "-nic", "none"])
            .args(["-vga", "none", "-monitor", "none", "-serial", "null"])
            // Instruction counting makes the board's timers (and so the
            // Cause.IP bits they set) deterministic: without it a Malta
            // timer interrupt may be pending or not, run to run.
            .args([
                "-icount",
                "shift=0",
                "-singlestep",
                "-d",
                "cpu,nochain",
                "-D",
            ])
            .arg(&log_path)
            .arg("-kernel")
            .arg(root.join(&rel))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {qemu} under timeout: {e}"))?;
        let log = std::fs::read_to_string(&log_path);
        let _ = std::fs::remove_file(&log_path);
        let log = log.map_err(|e| format!("{qemu}: no log ({e}); {status:?}"))?;
        let entry = {
            let b = elf.get(24..28).ok_or("short ELF")?;
            let b: [u8; 4] = b.try_into().map_err(|_| "short ELF")?;
            if elf.get(5) == Some(&2) {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let mut dumps = parse_log(&log)?;
        // With -icount, QEMU runs an instruction that ends a block with a
        // device access twice (once to find it, once to count it): the
        // same state logged twice is one step.
        dumps.dedup();
        let start = dumps
            .iter()
            .position(|d| d.pc == entry)
            .ok_or_else(|| format!("{qemu}: the guest's entry {entry:#x} was never reached"))?;
        let dumps = &dumps[start..];
        let end = dumps
            .iter()
            .position(|d| elf_word(&elf, d.pc) == Some(SYNC))
            .ok_or_else(|| format!("{qemu}: the guest never reached its `sync` marker"))?;
        let endian = if arch == "mips" { "big" } else { "little" };
        let mut out = format!(
            "# hemu reference trace v1\n# source: {qemu} {version} -M malta -cpu 24Kf -icount shift=0 -singlestep; \
             guest: {rel}, from its entry to its first sync\nmode system\narch mips endian={endian}\n"
        );
        let named = |i: usize| i < 34 || (C0..C0 + 3).contains(&i);
        out.push_str(&format!("init pc={:08x}", dumps[0].pc));
        for (i, v) in dumps[0].regs.iter().enumerate().skip(1) {
            if named(i) {
                out.push_str(&format!(" {}={v:08x}", reg_name(i)));
            }
        }
        out.push('\n');
        for k in 0..end {
            let (cur, next) = (&dumps[k], &dumps[k + 1]);
            let insn = elf_word(&elf, cur.pc)
                .ok_or_else(|| format!("pc {:#x} is outside the ELF's segments", cur.pc))?;
            out.push_str(&format!("step pc={:08x} insn={insn:08x}", cur.pc));
            for (i, (a, b)) in cur.regs.iter().zip(&next.regs).enumerate() {
                if a != b && named(i) {
                    out.push_str(&format!(" {}={b:08x}", reg_name(i)));
                }
            }
            out.push('\n');
        }
        out.push_str(&format!("end pc={:08x}\n", dumps[end].pc));
        crate::write_trace(root, &format!("mips-sys-exc{suffix}"), &out)?;
    }
    Ok(())
}
