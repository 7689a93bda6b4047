//! `cargo xtask traces`: records reference instruction traces of the RISC-V
//! self-tests under QEMU, for hemu's differential tests.
//!
//! For the deterministic self-tests in `tests/guests/riscv/bin/` ([`TRACED`]:
//! `rv64i`, `rv32i`, and the M, A, C and Zba/Zbb/Zbs guests `m64`, `m32`,
//! `a64`, `a32`, `c64`, `c32`, `zb64`, `zb32`) this runs
//! `qemu-system-riscvNN -M virt -nographic -bios none -kernel X -singlestep
//! -d in_asm,exec,cpu,nochain -D <log>` and converts the log into
//! `tests/traces/<name>.jsonl`. (`irq` is not traced: its interrupts depend
//! on real time under QEMU and on virtual time under hemu.)
//!
//! # Intermediate text: "hemu reference trace v1"
//!
//! The converters below write this line-oriented text, which
//! [`crate::write_trace`] turns into the hemu trace format (JSON lines,
//! `docs/trace-format.md`; the mapping is `trace/src/legacy.rs`). It
//! is a line-oriented text file; all numbers are lower-case hex without `0x`,
//! zero-padded: register values and pcs to XLEN/4 digits (16 for RV64, 8 for
//! RV32), instruction words to 8 digits, or 4 for a 16-bit (compressed)
//! instruction.
//!
//! ```text
//! # hemu reference trace v1
//! # source: qemu-system-riscv64 7.2.22 -M virt -bios none -singlestep; guest: tests/guests/riscv/bin/rv64i.elf
//! # <more comment lines, e.g. a truncation note>
//! arch riscv xlen=64
//! init pc=0000000080000000 x1=0000000000000000 x2=... x31=0000000000000000
//! step pc=0000000080000000 insn=00000093
//! step pc=0000000080000004 insn=00000113 x2=0000000000000000
//! step pc=0000000080000008 insn=4505 x10=0000000000000001
//! step pc=000000008000000a insn=00100073 trap=0000000000000003
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
//!   encoding (read from the ELF file; 16 bits when its low two bits are not
//!   `11`, else 32), `trap=<cause>` if it trapped (the next pc is then the
//!   trap vector and the trap CSRs say so: mepc/sepc = this pc,
//!   mcause/scause = the cause), then `xN=value` for every GPR whose value
//!   differs after the instruction, in register order; nothing after
//!   `insn=` if no register changed and it did not trap. The pc of the next
//!   `step` is the pc after this instruction.
//! - The trace ends with the last instruction that QEMU logged a following
//!   state for (the finisher store that ends the program is not included),
//!   or after the guest's step limit ([`MAX_STEPS`] at most; fewer for the
//!   extension guests, to keep the checked-in files small), which a comment
//!   line then says.
//!
//! QEMU's log has, per executed instruction (`-singlestep` makes every
//! translation block one instruction, `nochain` makes every block go through
//! the logging main loop): an `IN:` disassembly block the first time the
//! instruction is translated (`0x<pc>:  <insn hex>  <disassembly>`), a
//! `Trace N: <host ptr> [<cs_base>/<pc>/<flags>/<cflags>]` line, and a CPU
//! dump of the state *before* the instruction: ` pc       <hex>`, CSR lines
//! (` mtvec    <hex>`, ...), then eight lines of four ` xN/abi  <hex>` pairs
//! (x0..x31).
//!
//! `cargo xtask traces` also traces Linux user-mode guests of
//! `tests/guests/riscv-user/` under QEMU's user mode (`qemu-riscvNN`) into
//! `tests/traces/user-<name>.jsonl`: [`record_user`] says which, how, and
//! what the format adds for them.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest trace written; longer runs are truncated (traces are checked in).
pub const MAX_STEPS: usize = 4000;
/// Step limit of the extension guests' traces (smaller: eight more files).
const EXT_STEPS: usize = 3000;
/// Wall-clock limit for one QEMU run.
const QEMU_TIMEOUT: Duration = Duration::from_secs(60);

/// One traced guest.
struct TracedGuest {
    name: &'static str,
    xlen: u32,
    /// Text the guest prints on success (checked, so a broken guest is not recorded).
    pass_text: &'static str,
    /// Longest trace written for it.
    max_steps: usize,
}

/// An extension guest (`tests/guests/riscv/<name>.S`, built as `<name>64`
/// and `<name>32` by `cargo xtask guests`), which prints
/// "<name>: all tests passed".
const fn ext(name: &'static str, xlen: u32, pass_text: &'static str) -> TracedGuest {
    TracedGuest {
        name,
        xlen,
        pass_text,
        max_steps: EXT_STEPS,
    }
}

const TRACED: &[TracedGuest] = &[
    TracedGuest {
        name: "rv64i",
        xlen: 64,
        pass_text: "rv64i: all tests passed\n",
        max_steps: MAX_STEPS,
    },
    TracedGuest {
        name: "rv32i",
        xlen: 32,
        pass_text: "rv32i: all tests passed\n",
        max_steps: MAX_STEPS,
    },
    ext("m64", 64, "m64: all tests passed\n"),
    ext("m32", 32, "m32: all tests passed\n"),
    ext("a64", 64, "a64: all tests passed\n"),
    ext("a32", 32, "a32: all tests passed\n"),
    ext("c64", 64, "c64: all tests passed\n"),
    ext("c32", 32, "c32: all tests passed\n"),
    ext("zb64", 64, "zb64: all tests passed\n"),
    ext("zb32", 32, "zb32: all tests passed\n"),
];

/// Records `tests/traces/<name>.jsonl` for every traced guest.
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
        let text = convert(&log, &elf, &source, guest.max_steps)
            .map_err(|e| format!("{qemu} {rel_elf}: {e}"))?;
        crate::write_trace(root, guest.name, &text)?;
    }
    record_user(root)?;
    record_fptest(root)
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

/// Wait for a spawned QEMU (stdout and stderr piped) under
/// [`QEMU_TIMEOUT`], draining its pipes on threads so a chatty QEMU cannot
/// block on a full pipe; returns its status, stdout and stderr.
fn finish(
    mut child: std::process::Child,
    qemu: &str,
) -> Result<(std::process::ExitStatus, String, String), String> {
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
    Ok((status, stdout, stderr))
}

/// Runs QEMU to completion (the guest exits through the finisher) and returns its stdout.
fn run_qemu(qemu: &str, elf: &Path, log: &Path) -> Result<String, String> {
    let child = Command::new(qemu)
        .args(["-M", "virt", "-nographic", "-bios", "none", "-kernel"])
        .arg(elf)
        .args(["-singlestep", "-d", "in_asm,exec,cpu,nochain", "-D"])
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {qemu}: {e}"))?;
    let (status, stdout, stderr) = finish(child, qemu)?;
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
    /// The trap CSRs: mtvec, mepc, mcause, stvec, sepc, scause (0 if absent).
    csr: [u64; 6],
}

/// Names of [`Dump::csr`] in QEMU's dump.
const TRAP_CSRS: [&str; 6] = ["mtvec", "mepc", "mcause", "stvec", "sepc", "scause"];

/// Where a trap with `cause` goes through the vector register `tvec`.
fn trap_target(tvec: u64, cause: u64, xlen: u32) -> u64 {
    let base = tvec & !3;
    let interrupt = cause >> (xlen - 1) & 1 == 1;
    if tvec & 3 == 1 && interrupt {
        base.wrapping_add(4 * (cause & 0x3f))
    } else {
        base
    }
}

/// If the instruction at `cur` trapped (the next state is at the trap
/// vector with the trap pc and a cause in M's or S's trap CSRs), its cause.
fn trapped(cur: &Dump, next: &Dump, xlen: u32, mask: u64) -> Option<u64> {
    // (tvec, epc, cause) of M, then of S.
    [(0, 1, 2), (3, 4, 5)]
        .into_iter()
        .find_map(|(tvec, epc, cause)| {
            let cause = next.csr[cause] & mask;
            (next.csr[epc] & mask == cur.pc
                && next.pc == trap_target(cur.csr[tvec], cause, xlen) & mask)
                .then_some(cause)
        })
}

/// Whether `insn` (`len` bytes) may change the pc other than by falling
/// through: jumps, branches, mret/sret, and the same in the C extension.
fn is_control_transfer(insn: u32, len: u64, xlen: u32) -> bool {
    if len == 4 {
        return matches!(insn & 0x7f, 0x63 | 0x67 | 0x6f)
            || insn == 0x3020_0073
            || insn == 0x1020_0073;
    }
    let (op, funct3) = (insn & 3, insn >> 13 & 7);
    match (op, funct3) {
        // c.j, c.beqz, c.bnez; c.jal on RV32 (c.addiw on RV64)
        (1, 5..=7) => true,
        (1, 1) => xlen == 32,
        // c.jr, c.jalr: rs2 = 0, rs1 != 0
        (2, 4) => insn >> 2 & 0x1f == 0 && insn >> 7 & 0x1f != 0,
        _ => false,
    }
}

/// Converts a QEMU `-d in_asm,exec,cpu,nochain -singlestep` log into a trace
/// of at most `max_steps` steps.
fn convert(log: &str, elf: &Elf, source: &str, max_steps: usize) -> Result<String, String> {
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
    let steps = available.min(max_steps);

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
        let outside = || format!("pc {:#x} is outside the ELF's loaded segments", cur.pc);
        let low = elf.read_u16(cur.pc).ok_or_else(outside)?;
        let (insn, len) = if low & 3 == 3 {
            (elf.read_u32(cur.pc).ok_or_else(outside)?, 4)
        } else {
            (u32::from(low), 2)
        };
        let width = 2 * len as usize;
        if let Some(&logged) = in_asm.get(&cur.pc) {
            if logged != insn {
                return Err(format!(
                    "pc {:#x}: QEMU translated {logged:0width$x} but the ELF holds {insn:0width$x}",
                    cur.pc
                ));
            }
        }
        // Every other instruction must fall through or trap; anything else
        // means a missed record.
        let trap = trapped(cur, next, elf.xlen, mask);
        if trap.is_none()
            && !is_control_transfer(insn, len, elf.xlen)
            && next.pc != (cur.pc.wrapping_add(len) & mask)
        {
            return Err(format!(
                "pc {:#x} (insn {insn:0width$x}) is followed by pc {:#x}: missing log record",
                cur.pc, next.pc
            ));
        }
        if next.x[0] != 0 {
            return Err(format!(
                "pc {:#x}: QEMU reports x0 = {:#x}",
                cur.pc, next.x[0]
            ));
        }
        out.push_str(&format!("step pc={} insn={insn:0width$x}", hex(cur.pc)));
        if let Some(cause) = trap {
            out.push_str(&format!(" trap={}", hex(cause)));
        }
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
            let d = Dump {
                pc,
                x: [0; 32],
                csr: [0; 6],
            };
            cur = Some((d, 0));
        } else if let Some((i, v)) = trap_csr(line) {
            if let Some((dump, _)) = cur.as_mut() {
                dump.csr[i] = parse_hex(v).ok_or_else(|| bad("bad CSR value"))?;
            }
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

/// A ` <csr> <hex>` dump line of one of [`TRAP_CSRS`]: its index and value.
fn trap_csr(line: &str) -> Option<(usize, &str)> {
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let value = words.next()?;
    if !line.starts_with(' ') || words.next().is_some() {
        return None;
    }
    TRAP_CSRS
        .iter()
        .position(|c| *c == name)
        .map(|i| (i, value))
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

    /// The `N` bytes at virtual address `addr`, if loaded from the file.
    fn read<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let n = N as u64;
        let &(vaddr, offset, _) = self.segments.iter().find(|&&(vaddr, _, filesz)| {
            addr >= vaddr && addr.saturating_add(n) <= vaddr.saturating_add(filesz)
        })?;
        let start = usize::try_from(offset + (addr - vaddr)).ok()?;
        self.bytes.get(start..start + N)?.try_into().ok()
    }

    /// The 32-bit little-endian word at virtual address `addr`, if loaded from the file.
    fn read_u32(&self, addr: u64) -> Option<u32> {
        self.read(addr).map(u32::from_le_bytes)
    }

    /// The 16-bit little-endian halfword at virtual address `addr`, if loaded from the file.
    fn read_u16(&self, addr: u64) -> Option<u16> {
        self.read(addr).map(u16::from_le_bytes)
    }
}

// ---------------------------------------------------------------------------
// Linux user-mode traces (`qemu-riscvNN`, the user-mode emulators).

/// Folder of the user-mode guests (`tests/guests/riscv-user/`), relative
/// to the workspace root.
const USER_BIN_DIR: &str = "tests/guests/riscv-user/bin";
/// Longest user-mode trace: user traces are never truncated (the test
/// checks how the program ends), so a longer run is an error.
const USER_MAX_STEPS: usize = 5000;
/// The system-call instruction (`ecall`), which ends every traced program.
const ECALL: u32 = 0x0000_0073;

/// One Linux user-mode guest traced under QEMU's user mode.
struct UserTraced {
    /// The program is `tests/guests/riscv-user/bin/<name>.elf`, its trace
    /// `tests/traces/user-<name>.jsonl`.
    name: &'static str,
    /// 32 (`qemu-riscv32`) or 64 (`qemu-riscv64`).
    xlen: u32,
    /// argv[1..] (argv[0] is the program's path relative to the root).
    args: &'static [&'static str],
    /// How the program's stdout ends (checked, so a broken guest is not
    /// recorded).
    stdout_end: &'static str,
    /// Its exit status (checked).
    status: i32,
}

/// The traced user-mode guests: deterministic ones (no clocks, process
/// ids, random bytes, uid or auxv contents in their registers; not
/// `auxv64`/`auxv32` or `misc`) that exercise system calls and memory:
/// `write`, `exit_group`, `exit`, `brk`, `mmap` / `munmap` / `mremap` /
/// `mprotect`, files (`openat`, `fstat`, `read`, `lseek`, a file mapping,
/// `close`), arguments (`cat` reads argv[1] from the initial stack), and
/// errors (`ENOSYS`, `EFAULT`, `EINVAL`, `ENOMEM`, `EBADF`, `ENOENT`).
const USER_TRACED: &[UserTraced] = &[
    UserTraced {
        name: "hello64",
        xlen: 64,
        args: &[],
        stdout_end: "Hello from hemu user mode (rv64)\n",
        status: 0,
    },
    UserTraced {
        name: "hello32",
        xlen: 32,
        args: &[],
        stdout_end: "Hello from hemu user mode (rv32)\n",
        status: 0,
    },
    UserTraced {
        name: "brk",
        xlen: 64,
        args: &[],
        stdout_end: "brk ok\n",
        status: 0,
    },
    UserTraced {
        name: "mmap",
        xlen: 64,
        args: &[],
        stdout_end: "mmap ok\n",
        status: 0,
    },
    UserTraced {
        name: "enosys",
        xlen: 64,
        args: &[],
        stdout_end: "ENOSYS ok\n",
        status: 0,
    },
    UserTraced {
        name: "efault",
        xlen: 64,
        args: &[],
        stdout_end: "EFAULT ok\n",
        status: 0,
    },
    UserTraced {
        name: "cat",
        xlen: 64,
        // Any small checked-in file (its size and contents pass through
        // the registers: re-record after editing it).
        args: &["tests/guests/riscv-user/exit42.S"],
        stdout_end: "EBADF ok\nENOENT ok\n",
        status: 0,
    },
    UserTraced {
        name: "exit42",
        xlen: 64,
        args: &[],
        stdout_end: "",
        status: 42,
    },
];

/// Records `tests/traces/user-<name>.jsonl` for every guest of
/// [`USER_TRACED`].
///
/// Each program runs as `env -i qemu-riscvNN -singlestep -d
/// in_asm,exec,cpu,nochain,page tests/guests/riscv-user/bin/<name>.elf
/// <args>` from the workspace root (empty environment, fixed argv and cwd,
/// so QEMU's initial stack, and with it every address QEMU picks, is the
/// same run to run) and must print its expected output and exit with its
/// expected status.
/// The log goes to stderr, not to a `-D` file: QEMU would hold that file
/// open as fd 3 in the program's own descriptor table, so every descriptor
/// the program opens would be one higher than under Linux or hemu (so the
/// traced programs must not write to stderr).
///
/// # User-mode traces
///
/// The same "hemu reference trace v1" text, with these differences:
///
/// ```text
/// # hemu reference trace v1
/// # source: qemu-riscv64 7.2.22 (Linux user mode) -singlestep, empty environment, cwd: the workspace root; guest: tests/guests/riscv-user/bin/brk.elf
/// mode user
/// argv tests/guests/riscv-user/bin/brk.elf
/// stack top=0000004000801000
/// arch riscv xlen=64
/// init pc=00000000000100b0 x1=0000000000000000 x2=0000004000800e90 ... x31=0000000000000000
/// step pc=00000000000100b0 insn=00000513
/// ...
/// step pc=00000000000101a4 insn=00000073
/// exit status=00
/// ```
///
/// - `mode user`: a Linux user-mode program, started the way Linux starts
///   one (not a bare-metal machine).
/// - `argv`: the program's arguments, argv[0] first, separated by single
///   spaces (none contains white space); the environment is empty and the
///   working directory is the workspace root.
/// - `stack top=`: the end of QEMU's stack mapping (from `-d page`'s
///   memory map after loading). Linux puts the argument and environment
///   strings and the `AT_RANDOM` bytes at the top of the stack and the
///   argc/argv/envp/auxv table at sp, so a replay compares addresses of
///   the former as offsets from the top and of the latter from sp.
/// - `init`: the registers at the program's entry, as QEMU's loader left
///   them: all zero but x2 (sp), which is QEMU's initial stack pointer — an
///   address that depends on the emulator's memory layout, so a replay
///   compares sp (and every stack address) as an offset from it.
/// - `step`: as in system mode; a system call (`ecall`) is one step, its
///   result in a0. No trap ever reaches the program: the trace has no
///   `trap=`.
/// - The last step is the system call (`exit_group` or `exit`) that ends
///   the program (QEMU logs no state after it, so the step lists no
///   registers), and
///   `exit status=NN` gives the exit status (hex). User-mode traces are
///   never truncated.
pub fn record_user(root: &Path) -> Result<(), String> {
    let trace_dir = root.join("tests").join("traces");
    std::fs::create_dir_all(&trace_dir)
        .map_err(|e| format!("cannot create {}: {e}", trace_dir.display()))?;
    for guest in USER_TRACED {
        let rel_elf = format!("{USER_BIN_DIR}/{}.elf", guest.name);
        let elf_bytes = std::fs::read(root.join(&rel_elf))
            .map_err(|e| format!("cannot read {rel_elf} ({e}); run `cargo xtask guests` first"))?;
        let elf = Elf::parse(&elf_bytes).map_err(|e| format!("{rel_elf}: {e}"))?;
        if elf.xlen != guest.xlen {
            return Err(format!(
                "{rel_elf}: expected an RV{} ELF, found ELF{}",
                guest.xlen, elf.xlen
            ));
        }
        let qemu = format!("qemu-riscv{}", guest.xlen);
        let version = qemu_user_version(&qemu)?;
        let mut argv = vec![rel_elf.as_str()];
        argv.extend_from_slice(guest.args);
        let (status, stdout, log) = run_qemu_user(root, &qemu, &argv)?;
        if !stdout.ends_with(guest.stdout_end) || status != guest.status {
            return Err(format!(
                "{qemu} {rel_elf}: the guest did not pass (exit status {status}); \
                 its output was:\n{stdout}"
            ));
        }
        let source = format!(
            "{qemu} {version} (Linux user mode) -singlestep, empty environment, \
             cwd: the workspace root; guest: {rel_elf}"
        );
        let text = convert_user(&log, &elf, &source, &argv, status)
            .map_err(|e| format!("{qemu} {rel_elf}: {e}"))?;
        crate::write_trace(root, &format!("user-{}", guest.name), &text)?;
    }
    Ok(())
}

/// The absolute path of `tool` on `PATH` (QEMU runs with an empty
/// environment, so it is not looked up there).
fn find_on_path(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// `qemu-riscvNN --version` → e.g. `7.2.22`.
fn qemu_user_version(qemu: &str) -> Result<String, String> {
    let missing = || format!("{qemu} not found: install the Debian package qemu-user");
    let exe = find_on_path(qemu).ok_or_else(missing)?;
    let out = Command::new(&exe)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {qemu}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| format!("cannot parse `{qemu} --version`: {text}"))
}

/// Runs `env -i <qemu> -singlestep -d in_asm,exec,cpu,nochain,page
/// <argv...>` in `root` to completion; returns the exit status, stdout and
/// the log (stderr).
fn run_qemu_user(root: &Path, qemu: &str, argv: &[&str]) -> Result<(i32, String, String), String> {
    let exe = find_on_path(qemu)
        .ok_or_else(|| format!("{qemu} not found: install the Debian package qemu-user"))?;
    let child = Command::new(exe)
        .env_clear()
        .current_dir(root)
        .args(["-singlestep", "-d", "in_asm,exec,cpu,nochain,page"])
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {qemu}: {e}"))?;
    let (status, stdout, stderr) = finish(child, qemu)?;
    let code = status.code().ok_or_else(|| {
        let end = stderr.len().saturating_sub(2000);
        let end = (end..stderr.len())
            .find(|&i| stderr.is_char_boundary(i))
            .unwrap_or(stderr.len());
        format!(
            "{qemu} was killed ({status})\nstdout:\n{stdout}\nend of stderr:\n{}",
            &stderr[end..]
        )
    })?;
    Ok((code, stdout, stderr))
}

/// Converts the QEMU user-mode log of a whole program run (which exited
/// with `status`) into a user-mode trace (see [`record_user`]).
fn convert_user(
    log: &str,
    elf: &Elf,
    source: &str,
    argv: &[&str],
    status: i32,
) -> Result<String, String> {
    let (dumps, in_asm) = parse_log(log)?;
    if dumps.first().map(|d| d.pc) != Some(elf.entry) {
        return Err(format!(
            "the log does not start at the entry point {:#x}",
            elf.entry
        ));
    }
    if dumps.len() > USER_MAX_STEPS {
        return Err(format!(
            "{} instructions: more than the {USER_MAX_STEPS} a user-mode trace may have",
            dumps.len()
        ));
    }
    if argv
        .iter()
        .any(|a| a.is_empty() || a.contains(char::is_whitespace))
    {
        return Err("an argument is empty or contains white space".into());
    }
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
    out.push_str("mode user\n");
    out.push_str(&format!("argv {}\n", argv.join(" ")));
    out.push_str(&format!(
        "stack top={}\n",
        hex(stack_top(log, dumps[0].x[2])?)
    ));
    out.push_str(&format!("arch riscv xlen={}\n", elf.xlen));
    out.push_str(&format!("init pc={}", hex(dumps[0].pc)));
    for r in 1..32 {
        out.push_str(&format!(" x{r}={}", hex(dumps[0].x[r])));
    }
    out.push('\n');

    for (i, cur) in dumps.iter().enumerate() {
        let outside = || format!("pc {:#x} is outside the ELF's loaded segments", cur.pc);
        let low = elf.read_u16(cur.pc).ok_or_else(outside)?;
        let (insn, len) = if low & 3 == 3 {
            (elf.read_u32(cur.pc).ok_or_else(outside)?, 4)
        } else {
            (u32::from(low), 2)
        };
        let width = 2 * len as usize;
        if let Some(&logged) = in_asm.get(&cur.pc) {
            if logged != insn {
                return Err(format!(
                    "pc {:#x}: QEMU translated {logged:0width$x} but the ELF holds {insn:0width$x}",
                    cur.pc
                ));
            }
        }
        out.push_str(&format!("step pc={} insn={insn:0width$x}", hex(cur.pc)));
        let Some(next) = dumps.get(i + 1) else {
            // The last logged instruction ends the program.
            if insn != ECALL {
                return Err(format!(
                    "the last logged instruction (pc {:#x}, {insn:0width$x}) is not a system call",
                    cur.pc
                ));
            }
            out.push_str(&format!("\nexit status={:02x}\n", status & 0xff));
            break;
        };
        // Every other instruction falls through (a system call included:
        // it returns to the next instruction); anything else is a missed
        // record or a signal.
        if !is_control_transfer(insn, len, elf.xlen) && next.pc != (cur.pc.wrapping_add(len) & mask)
        {
            return Err(format!(
                "pc {:#x} (insn {insn:0width$x}) is followed by pc {:#x}: missing log record",
                cur.pc, next.pc
            ));
        }
        if next.x[0] != 0 {
            return Err(format!(
                "pc {:#x}: QEMU reports x0 = {:#x}",
                cur.pc, next.x[0]
            ));
        }
        for r in 1..32 {
            if next.x[r] != cur.x[r] {
                out.push_str(&format!(" x{r}={}", hex(next.x[r])));
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// The end of the mapping that holds `sp` in the memory map QEMU's `-d
/// page` logs after loading the program ("page layout changed following
/// binary load", then `start-end size prot` lines).
fn stack_top(log: &str, sp: u64) -> Result<u64, String> {
    let map = log
        .split("page layout changed following binary load")
        .nth(1)
        .ok_or("the log has no memory map after loading (was QEMU run with -d page?)")?;
    for line in map.lines().skip(2) {
        let Some((range, _)) = line.split_once(' ') else {
            break;
        };
        let Some((start, end)) = range.split_once('-') else {
            break;
        };
        let (Some(start), Some(end)) = (parse_hex(start), parse_hex(end)) else {
            break;
        };
        if (start..end).contains(&sp) {
            return Ok(end);
        }
    }
    Err(format!(
        "no mapping holds the initial sp {sp:#x} in the memory map after loading"
    ))
}

// ---------------------------------------------------------------------------
// The F/D conformance reference (`tests/fp_conformance.rs`).

/// The F/D conformance probe, relative to the workspace root.
const FPTEST_ELF: &str = "tests/guests/riscv-user/bin/fptest.elf";
/// Its expected output, recorded under `qemu-riscv64`.
const FPTEST_EXPECTED: &str = "tests/guests/riscv-user/fptest.expected";

/// Records [`FPTEST_EXPECTED`]: the stdout of `qemu-riscv64
/// tests/guests/riscv-user/bin/fptest.elf` (one line per instruction and
/// rounding mode with a case count and a hash of every result and fflags
/// value; see `tests/guests/riscv-user/fptest.c`). The program is run twice
/// and must print the same both times and end with its `total` line.
fn record_fptest(root: &Path) -> Result<(), String> {
    let qemu = "qemu-riscv64";
    let version = qemu_user_version(qemu)?;
    let run = || -> Result<String, String> {
        let out = Command::new(qemu)
            .arg(FPTEST_ELF)
            .current_dir(root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {qemu}: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let complete = stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("total "));
        if !out.status.success() || !complete {
            return Err(format!(
                "{qemu} {FPTEST_ELF} failed ({}); run `cargo xtask guests` first?\n\
                 end of stdout:\n{}\nstderr:\n{}",
                out.status,
                stdout.lines().rev().take(5).collect::<Vec<_>>().join("\n"),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(stdout)
    };
    let first = run()?;
    if run()? != first {
        return Err(format!(
            "{qemu} {FPTEST_ELF}: two runs printed different output"
        ));
    }
    let text =
        format!("# {FPTEST_ELF} under {qemu} {version}; recorded by `cargo xtask traces`\n{first}");
    let out = root.join(FPTEST_EXPECTED);
    std::fs::write(&out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!(
        "recorded {FPTEST_EXPECTED} ({} lines)",
        first.lines().count()
    );
    Ok(())
}
