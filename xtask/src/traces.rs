//! `cargo xtask traces`: records reference instruction traces of the RISC-V
//! self-tests under QEMU, for hemu's differential tests.
//!
//! For `tests/guests/riscv/bin/rv64i.elf` (qemu-system-riscv64) and
//! `rv32i.elf` (qemu-system-riscv32) this runs
//! `qemu-system-riscvNN -M virt -nographic -bios none -kernel X -singlestep
//! -d in_asm,exec,cpu,nochain -D <log>` and converts the log into
//! `tests/traces/<name>.trace`.
//!
//! # Format: "hemu reference trace v1"
//!
//! A line-oriented text file; all numbers are lower-case hex without `0x`,
//! zero-padded: register values and pcs to XLEN/4 digits (16 for RV64, 8 for
//! RV32), instruction words to 8 digits.
//!
//! ```text
//! # hemu reference trace v1
//! # source: qemu-system-riscv64 7.2.22 -M virt -bios none -singlestep; guest: tests/guests/riscv/bin/rv64i.elf
//! # <more comment lines, e.g. a truncation note>
//! arch riscv xlen=64
//! init pc=0000000080000000 x1=0000000000000000 x2=... x31=0000000000000000
//! step pc=0000000080000000 insn=00000093
//! step pc=0000000080000004 insn=00000113 x2=0000000000000000
//! ...
//! ```
//!
//! - Lines starting with `#` are comments; the first line is exactly
//!   `# hemu reference trace v1`.
//! - `arch riscv xlen=N`: the guest architecture.
//! - `init`: the full state (pc, x1..x31 in order) when the guest's entry
//!   point is reached, after QEMU's reset ROM (which sets x5 = entry,
//!   x10 = hart id, x11 = device tree address, x12 = fw_dynamic info; the
//!   self-tests clear x1..x31 first thing, so later steps do not depend on
//!   those values).
//! - `step`: one executed instruction, in execution order: its pc, its raw
//!   32-bit encoding (read from the ELF file), then `xN=value` for every GPR
//!   whose value differs after the instruction, in register order; nothing
//!   after `insn=` if no register changed. The pc of the next `step` is the
//!   pc after this instruction.
//! - The trace ends with the last instruction that QEMU logged a following
//!   state for (the finisher store that ends the program is not included),
//!   or after [`MAX_STEPS`] steps, which a comment line then says.
//!
//! QEMU's log has, per executed instruction (`-singlestep` makes every
//! translation block one instruction, `nochain` makes every block go through
//! the logging main loop): an `IN:` disassembly block the first time the
//! instruction is translated (`0x<pc>:  <insn hex>  <disassembly>`), a
//! `Trace N: <host ptr> [<cs_base>/<pc>/<flags>/<cflags>]` line, and a CPU
//! dump of the state *before* the instruction: ` pc       <hex>`, CSR lines,
//! then eight lines of four ` xN/abi  <hex>` pairs (x0..x31).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest trace written; longer runs are truncated (traces are checked in).
pub const MAX_STEPS: usize = 4000;
/// Wall-clock limit for one QEMU run.
const QEMU_TIMEOUT: Duration = Duration::from_secs(60);

/// One traced guest.
struct TracedGuest {
    name: &'static str,
    xlen: u32,
    /// Text the guest prints on success (checked, so a broken guest is not recorded).
    pass_text: &'static str,
}

const TRACED: &[TracedGuest] = &[
    TracedGuest {
        name: "rv64i",
        xlen: 64,
        pass_text: "rv64i: all tests passed\n",
    },
    TracedGuest {
        name: "rv32i",
        xlen: 32,
        pass_text: "rv32i: all tests passed\n",
    },
];

/// Records `tests/traces/<name>.trace` for every traced guest.
pub fn record(root: &Path) -> Result<(), String> {
    let trace_dir = root.join("tests").join("traces");
    std::fs::create_dir_all(&trace_dir)
        .map_err(|e| format!("cannot create {}: {e}", trace_dir.display()))?;
    for guest in TRACED {
        let rel_elf = format!("tests/guests/riscv/bin/{}.elf", guest.name);
        let elf_path = root.join(&rel_elf);
        let elf_bytes = std::fs::read(&elf_path).map_err(|e| {
            format!(
                "cannot read {} ({e}); run `cargo xtask guests` first",
                elf_path.display()
            )
        })?;
        let elf = Elf::parse(&elf_bytes).map_err(|e| format!("{rel_elf}: {e}"))?;
        if elf.xlen != guest.xlen {
            return Err(format!(
                "{rel_elf}: expected an RV{} ELF, found ELF{}",
                guest.xlen, elf.xlen
            ));
        }
        let qemu = format!("qemu-system-riscv{}", guest.xlen);
        let version = qemu_version(&qemu)?;
        let log_path = std::env::temp_dir().join(format!(
            "hemu-trace-{}-{}.log",
            guest.name,
            std::process::id()
        ));
        let run = run_qemu(&qemu, &elf_path, &log_path);
        let log = std::fs::read_to_string(&log_path);
        let _ = std::fs::remove_file(&log_path);
        let stdout = run?;
        if !stdout.contains(guest.pass_text.trim_end()) {
            return Err(format!(
                "{qemu} {rel_elf}: the guest did not pass; its output was:\n{stdout}"
            ));
        }
        let log =
            log.map_err(|e| format!("cannot read the QEMU log {}: {e}", log_path.display()))?;
        let source = format!("{qemu} {version} -M virt -bios none -singlestep; guest: {rel_elf}");
        let text = convert(&log, &elf, &source).map_err(|e| format!("{qemu} {rel_elf}: {e}"))?;
        let out = trace_dir.join(format!("{}.trace", guest.name));
        std::fs::write(&out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        let steps = text.lines().filter(|l| l.starts_with("step ")).count();
        println!("recorded tests/traces/{}.trace ({steps} steps)", guest.name);
    }
    Ok(())
}

/// `qemu-system-riscvNN --version` → e.g. `7.2.22`.
fn qemu_version(qemu: &str) -> Result<String, String> {
    let out = Command::new(qemu).arg("--version").output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{qemu} not found: install the Debian package qemu-system-misc")
        } else {
            format!("cannot run {qemu}: {e}")
        }
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| format!("cannot parse `{qemu} --version`: {text}"))
}

/// Runs QEMU to completion (the guest exits through the finisher) and returns its stdout.
fn run_qemu(qemu: &str, elf: &Path, log: &Path) -> Result<String, String> {
    let mut child = Command::new(qemu)
        .args(["-M", "virt", "-nographic", "-bios", "none", "-kernel"])
        .arg(elf)
        .args(["-singlestep", "-d", "in_asm,exec,cpu,nochain", "-D"])
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {qemu}: {e}"))?;
    // Drain the pipes on threads so a chatty QEMU cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut s);
        s
    });
    let deadline = Instant::now() + QEMU_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{qemu} did not finish within {}s",
                    QEMU_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for {qemu}: {e}")),
        }
    };
    let stdout = String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    if !status.success() {
        return Err(format!(
            "{qemu} exited with {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ));
    }
    Ok(stdout)
}

/// The register state QEMU dumps before an instruction.
struct Dump {
    pc: u64,
    x: [u64; 32],
}

/// Converts a QEMU `-d in_asm,exec,cpu,nochain -singlestep` log into a trace.
fn convert(log: &str, elf: &Elf, source: &str) -> Result<String, String> {
    let (dumps, in_asm) = parse_log(log)?;
    let start = dumps
        .iter()
        .position(|d| d.pc == elf.entry)
        .ok_or_else(|| format!("the log never reaches the entry point {:#x}", elf.entry))?;
    let dumps = &dumps[start..];
    if dumps.len() < 2 {
        return Err("the log has fewer than two states after the entry point".into());
    }
    let available = dumps.len() - 1;
    let steps = available.min(MAX_STEPS);

    let digits = (elf.xlen / 4) as usize;
    let mask = if elf.xlen == 32 {
        0xffff_ffff
    } else {
        u64::MAX
    };
    let hex = |v: u64| format!("{:0digits$x}", v & mask);

    let mut out = String::new();
    out.push_str("# hemu reference trace v1\n");
    out.push_str(&format!("# source: {source}\n"));
    if steps < available {
        out.push_str(&format!(
            "# truncated: the first {steps} of {available} logged instructions\n"
        ));
    }
    out.push_str(&format!("arch riscv xlen={}\n", elf.xlen));
    out.push_str(&format!("init pc={}", hex(dumps[0].pc)));
    for r in 1..32 {
        out.push_str(&format!(" x{r}={}", hex(dumps[0].x[r])));
    }
    out.push('\n');

    for i in 0..steps {
        let (cur, next) = (&dumps[i], &dumps[i + 1]);
        let insn = elf
            .read_u32(cur.pc)
            .ok_or_else(|| format!("pc {:#x} is outside the ELF's loaded segments", cur.pc))?;
        if let Some(&logged) = in_asm.get(&cur.pc) {
            if logged != insn {
                return Err(format!(
                    "pc {:#x}: QEMU translated {logged:08x} but the ELF holds {insn:08x}",
                    cur.pc
                ));
            }
        }
        // Every non-control-transfer instruction must fall through; anything
        // else means a missed record or a trap.
        let opcode = insn & 0x7f;
        let is_jump = matches!(opcode, 0x63 | 0x67 | 0x6f);
        if !is_jump && next.pc != (cur.pc.wrapping_add(4) & mask) {
            return Err(format!(
                "pc {:#x} (insn {insn:08x}) is followed by pc {:#x}: missing log record or trap",
                cur.pc, next.pc
            ));
        }
        if next.x[0] != 0 {
            return Err(format!(
                "pc {:#x}: QEMU reports x0 = {:#x}",
                cur.pc, next.x[0]
            ));
        }
        out.push_str(&format!("step pc={} insn={insn:08x}", hex(cur.pc)));
        for r in 1..32 {
            if next.x[r] != cur.x[r] {
                out.push_str(&format!(" x{r}={}", hex(next.x[r])));
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// Returns the CPU dumps in order, and the instruction words from the `IN:` blocks by pc.
fn parse_log(log: &str) -> Result<(Vec<Dump>, HashMap<u64, u32>), String> {
    let mut dumps = Vec::new();
    let mut in_asm = HashMap::new();
    // The dump being read and how many of x0..x31 it has so far.
    let mut cur: Option<(Dump, u32)> = None;
    for (idx, line) in log.lines().enumerate() {
        let lineno = idx + 1;
        let bad = |what: &str| format!("QEMU log line {lineno}: {what}: {line:?}");
        if let Some(rest) = line.strip_prefix(" pc ") {
            if cur.is_some() {
                return Err(bad("new dump before the previous one ended"));
            }
            let pc = parse_hex(rest.trim()).ok_or_else(|| bad("bad pc"))?;
            cur = Some((Dump { pc, x: [0; 32] }, 0));
        } else if line.starts_with(" x") && line.contains('/') {
            let Some((dump, seen)) = cur.as_mut() else {
                return Err(bad("registers outside a dump"));
            };
            let words: Vec<&str> = line.split_whitespace().collect();
            let pairs = words.chunks_exact(2);
            if !pairs.remainder().is_empty() {
                return Err(bad("odd number of words in a register line"));
            }
            for pair in pairs {
                let reg = pair[0]
                    .strip_prefix('x')
                    .and_then(|s| s.split('/').next())
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|&r| r < 32)
                    .ok_or_else(|| bad("bad register name"))?;
                dump.x[reg] = parse_hex(pair[1]).ok_or_else(|| bad("bad register value"))?;
                *seen |= 1 << reg;
            }
            if *seen == u32::MAX {
                let (dump, _) = cur.take().expect("a dump is open");
                dumps.push(dump);
            }
        } else if let Some(rest) = line.strip_prefix("0x") {
            // `0x<pc>:  <insn>  <disassembly>` inside an IN: block.
            let mut words = rest.split_whitespace();
            let pc = words
                .next()
                .and_then(|w| w.strip_suffix(':'))
                .and_then(parse_hex);
            let insn = words.next().and_then(|w| u32::from_str_radix(w, 16).ok());
            if let (Some(pc), Some(insn)) = (pc, insn) {
                in_asm.insert(pc, insn);
            }
        }
    }
    if dumps.is_empty() {
        return Err("no CPU state dumps in the QEMU log (was it run with -d cpu?)".into());
    }
    Ok((dumps, in_asm))
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s, 16).ok()
}

/// The little of a RISC-V ELF executable the converter needs.
struct Elf<'a> {
    bytes: &'a [u8],
    xlen: u32,
    entry: u64,
    /// Loaded segments: (vaddr, file offset, file size).
    segments: Vec<(u64, u64, u64)>,
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < 52 || &bytes[..4] != b"\x7fELF" {
            return Err("not an ELF file".into());
        }
        if bytes[5] != 1 {
            return Err("not a little-endian ELF file".into());
        }
        let u16_at = |off: usize| -> Result<u64, String> {
            bytes
                .get(off..off + 2)
                .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
                .ok_or_else(|| "truncated ELF file".to_string())
        };
        let u32_at = |off: usize| -> Result<u64, String> {
            bytes
                .get(off..off + 4)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .ok_or_else(|| "truncated ELF file".to_string())
        };
        let u64_at = |off: usize| -> Result<u64, String> {
            bytes
                .get(off..off + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                .ok_or_else(|| "truncated ELF file".to_string())
        };
        let is64 = match bytes[4] {
            1 => false,
            2 => true,
            c => return Err(format!("bad ELF class {c}")),
        };
        if u16_at(18)? != 243 {
            return Err("not a RISC-V ELF file (e_machine != EM_RISCV)".into());
        }
        let (entry, phoff, phentsize, phnum) = if is64 {
            (u64_at(24)?, u64_at(32)?, u16_at(54)?, u16_at(56)?)
        } else {
            (u32_at(24)?, u32_at(28)?, u16_at(42)?, u16_at(44)?)
        };
        let mut segments = Vec::new();
        for i in 0..phnum {
            let ph =
                usize::try_from(phoff + i * phentsize).map_err(|_| "bad program header offset")?;
            if u32_at(ph)? != 1 {
                continue; // not PT_LOAD
            }
            let (offset, vaddr, filesz) = if is64 {
                (u64_at(ph + 8)?, u64_at(ph + 16)?, u64_at(ph + 32)?)
            } else {
                (u32_at(ph + 4)?, u32_at(ph + 8)?, u32_at(ph + 16)?)
            };
            segments.push((vaddr, offset, filesz));
        }
        Ok(Elf {
            bytes,
            xlen: if is64 { 64 } else { 32 },
            entry,
            segments,
        })
    }

    /// The 32-bit little-endian word at virtual address `addr`, if loaded from the file.
    fn read_u32(&self, addr: u64) -> Option<u32> {
        let &(vaddr, offset, _) = self.segments.iter().find(|&&(vaddr, _, filesz)| {
            addr >= vaddr && addr.saturating_add(4) <= vaddr.saturating_add(filesz)
        })?;
        let start = usize::try_from(offset + (addr - vaddr)).ok()?;
        let b = self.bytes.get(start..start + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
