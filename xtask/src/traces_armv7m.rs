//! `cargo xtask traces armv7m` (also part of plain `traces`): records
//! per-instruction reference traces of the ARMv7-M guests from QEMU 7.2
//! (`qemu-system-arm`, Debian package `qemu-system-arm`) into
//! `tests/traces/armv7m-<name>.jsonl`, which `tests/difftest.rs`
//! replays in hemu.
//!
//! QEMU runs `-M <board> -cpu <core> -nographic -semihosting -kernel X
//! -singlestep -d in_asm,exec,cpu,nochain -D <log>`: one register dump
//! (r0-r15 and xPSR) before every instruction, the encodings from the
//! in_asm blocks. Trace format:
//!
//! ```text
//! # comment lines
//! machine mps2-an385 cpu=cortex-m3
//! init pc=<hex> r0=<hex> ... r14=<hex> xpsr=<hex>
//! step pc=<hex> insn=<hex> [r<n>=<hex> ...] [xpsr=<hex>]
//! ```
//!
//! `init` is the state at the reset handler's first instruction; each
//! `step` is one instruction (pc and encoding, hw1 then hw2) with the
//! registers that differ in the next dump, i.e. what the instruction — and
//! an exception taken right after it, if any — changed. The last
//! instruction (the exiting BKPT) has no next dump and is not recorded.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const QEMU: &str = "qemu-system-arm";
const QEMU_PACKAGE: &str = "qemu-system-arm";

/// A traced guest: `tests/guests/armv7m/bin/<name>.elf` on `machine`.
struct Traced {
    name: &'static str,
    machine: &'static str,
    cpu: &'static str,
}

const TRACED: &[Traced] = &[
    Traced {
        name: "thumb",
        machine: "mps2-an385",
        cpu: "cortex-m3",
    },
    Traced {
        name: "exc",
        machine: "mps2-an385",
        cpu: "cortex-m3",
    },
    Traced {
        name: "fp",
        machine: "mps2-an386",
        cpu: "cortex-m4",
    },
    Traced {
        name: "dsp",
        machine: "mps2-an386",
        cpu: "cortex-m4",
    },
];

/// Is QEMU installed?
pub fn have_qemu() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn qemu_version() -> Result<String, String> {
    let out = Command::new(QEMU)
        .arg("--version")
        .output()
        .map_err(|_| format!("{QEMU} not found: install the Debian package {QEMU_PACKAGE}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| format!("cannot read the version of {QEMU}: {text}"))
}

/// Record every trace.
pub fn record(root: &Path) -> Result<(), String> {
    let version = qemu_version()?;
    let out_dir = root.join("tests/traces");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let tmp = root.join("target/traces-armv7m");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    for t in TRACED {
        let rel_elf = format!("tests/guests/armv7m/bin/{}.elf", t.name);
        let log = tmp.join(format!("{}.log", t.name));
        let _ = std::fs::remove_file(&log);
        let status = Command::new(QEMU)
            .args(["-M", t.machine, "-cpu", t.cpu, "-nographic", "-semihosting"])
            .args(["-monitor", "none", "-serial", "null"])
            .arg("-kernel")
            .arg(root.join(&rel_elf))
            .args(["-singlestep", "-d", "in_asm,exec,cpu,nochain", "-D"])
            .arg(&log)
            .output()
            .map_err(|e| format!("cannot run {QEMU}: {e}"))?;
        if !status.status.success() {
            return Err(format!(
                "{QEMU} running {rel_elf} failed ({}): {}",
                status.status,
                String::from_utf8_lossy(&status.stderr)
            ));
        }
        let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let source = format!(
            "{QEMU} {version} -M {} -cpu {} -semihosting -singlestep; guest: {rel_elf}",
            t.machine, t.cpu
        );
        let trace = convert(&text, t, &source)?;
        crate::write_trace(root, &format!("armv7m-{}", t.name), &trace)?;
    }
    Ok(())
}

/// One register dump: r0-r15 and xPSR.
type Dump = [u32; 17];

fn parse_log(log: &str) -> Result<(Vec<Dump>, HashMap<u32, String>), String> {
    let mut dumps = Vec::new();
    let mut insns = HashMap::new();
    let mut cur: Dump = [0; 17];
    for line in log.lines() {
        // in_asm: "0x00000954:  f01e 0f04  tst.w ..."
        if let Some(rest) = line.strip_prefix("0x") {
            if let Some((addr, rest)) = rest.split_once(':') {
                let words: Vec<&str> = rest.split_whitespace().take(2).collect();
                let hw: Vec<&str> = words
                    .iter()
                    .copied()
                    .take_while(|w| w.len() == 4 && w.chars().all(|c| c.is_ascii_hexdigit()))
                    .collect();
                if let (Ok(a), false) = (u32::from_str_radix(addr, 16), hw.is_empty()) {
                    // A 32-bit encoding's first halfword is 0b111xx, xx != 0.
                    let first = u16::from_str_radix(hw[0], 16).unwrap_or(0);
                    let n = if first >> 11 >= 0x1d { 2 } else { 1 };
                    insns.insert(a, hw[..n.min(hw.len())].concat());
                }
            }
            continue;
        }
        for item in line.split_whitespace() {
            if let Some((name, val)) = item.split_once('=') {
                let Ok(v) = u32::from_str_radix(val, 16) else {
                    continue;
                };
                if let Some(n) = name.strip_prefix('R').and_then(|n| n.parse::<usize>().ok()) {
                    if n < 16 {
                        cur[n] = v;
                    }
                } else if name == "XPSR" {
                    cur[16] = v;
                    dumps.push(cur);
                }
            }
        }
    }
    if dumps.is_empty() {
        return Err("no CPU state dumps in the QEMU log (was it run with -d cpu?)".into());
    }
    Ok((dumps, insns))
}

fn convert(log: &str, t: &Traced, source: &str) -> Result<String, String> {
    let (dumps, insns) = parse_log(log)?;
    let mut out = String::new();
    out.push_str(
        "# hemu reference trace: QEMU executing an ARMv7-M guest one instruction at a time\n",
    );
    out.push_str(&format!("# source: {source}\n"));
    out.push_str("# format: see xtask/src/traces_armv7m.rs (`cargo xtask traces` re-records it)\n");
    out.push_str(&format!("machine {} cpu={}\n", t.machine, t.cpu));
    let reg = |i: usize| {
        if i == 16 {
            "xpsr".to_string()
        } else {
            format!("r{i}")
        }
    };
    let d0 = &dumps[0];
    out.push_str(&format!("init pc={:x}", d0[15]));
    for i in (0..15).chain([16]) {
        out.push_str(&format!(" {}={:x}", reg(i), d0[i]));
    }
    out.push('\n');
    for w in dumps.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let insn = insns
            .get(&a[15])
            .ok_or_else(|| format!("no in_asm entry for pc {:#x}", a[15]))?;
        out.push_str(&format!("step pc={:x} insn={insn}", a[15]));
        for i in (0..15).chain([16]) {
            if a[i] != b[i] {
                out.push_str(&format!(" {}={:x}", reg(i), b[i]));
            }
        }
        out.push('\n');
    }
    Ok(out)
}
