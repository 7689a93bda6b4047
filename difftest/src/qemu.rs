//! QEMU as the reference: run a Linux program under QEMU's user mode with
//! `-singlestep -d cpu,nochain` and turn its register dumps into a hemu
//! trace. (`cargo xtask traces` records the checked-in reference traces
//! with its own converters, which also read `in_asm` for the instruction
//! bits; here the caller knows its program's bits.)

use crate::format::{Header, Step, Trace};
use std::path::Path;
use std::process::{Command, Stdio};

/// One register dump: the state before the instruction at `pc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    /// The next instruction.
    pub pc: u64,
    /// Registers by trace name (`x1`, `r1`, `hi`).
    pub regs: Vec<(String, u64)>,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// Parse the `cpu` dumps of a RISC-V or MIPS QEMU log.
pub fn parse_dumps(isa: &str, log: &str) -> Vec<Dump> {
    let mut out: Vec<Dump> = Vec::new();
    // Inside the dump of an annulled MIPS delay slot.
    let mut skip = false;
    for line in log.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match isa {
            "riscv" => {
                if t.len() == 2 && t[0] == "pc" {
                    if let Some(pc) = hex(t[1]) {
                        out.push(Dump {
                            pc,
                            regs: Vec::new(),
                        });
                    }
                    continue;
                }
                let Some(d) = out.last_mut() else { continue };
                for pair in t.chunks(2) {
                    if let [name, val] = pair {
                        let n = name.split('/').next().unwrap_or("");
                        let ok = n.starts_with('x') && n[1..].parse::<u32>().is_ok_and(|r| r > 0);
                        if let (true, Some(v)) = (ok, hex(val)) {
                            d.regs.push((n.to_string(), v));
                        }
                    }
                }
            }
            "mips" => {
                if let Some(rest) = line.strip_prefix("pc=") {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    let get = |k: &str| {
                        f.iter()
                            .find_map(|w| w.strip_prefix(k))
                            .and_then(hex)
                            .unwrap_or(0)
                    };
                    // "ds HFLAGS BTARGET BCOND": the delay slot of a
                    // branch-likely (hflags BL = 0x1800) not taken (bcond 0)
                    // is logged but annulled, not executed: no step (its
                    // GPR lines then go to the dump before, unchanged).
                    let ds = f.iter().position(|s| *s == "ds");
                    let word = |k: usize| ds.and_then(|i| f.get(i + k)).and_then(|s| hex(s));
                    let annulled =
                        matches!((word(1), word(3)), (Some(h), Some(0)) if h & 0x1800 == 0x1800);
                    if let (Some(pc), false) = (f.first().and_then(|p| hex(p)), annulled) {
                        out.push(Dump {
                            pc,
                            regs: vec![("hi".into(), get("HI=")), ("lo".into(), get("LO="))],
                        });
                    }
                    skip = annulled;
                    continue;
                }
                let Some(base) = line
                    .strip_prefix("GPR")
                    .and_then(|r| r.get(..2))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let Some(d) = out.last_mut().filter(|_| !skip) else {
                    continue;
                };
                for (j, pair) in t[1..].chunks(2).enumerate() {
                    if let [_, val] = pair {
                        if let (r, Some(v)) = (base + j, hex(val)) {
                            if r > 0 {
                                d.regs.push((format!("r{r}"), v));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A trace from dumps: step k runs at dump k's pc with the bits
/// `insn_at` gives, and changes what differs in dump k+1 (the last step's
/// changes are not logged: nothing follows it).
pub fn trace_from_dumps(
    header: Header,
    dumps: &[Dump],
    insn_at: impl Fn(u64) -> Option<String>,
    exit: Option<i64>,
) -> Result<Trace, String> {
    let first = dumps.first().ok_or("QEMU logged no register dump")?;
    let mut t = Trace::new(header);
    t.init_pc = first.pc;
    t.init = first.regs.clone();
    for (k, d) in dumps.iter().enumerate() {
        let insn = insn_at(d.pc).ok_or(format!("QEMU ran pc={:#x}, outside the program", d.pc))?;
        let mut s = Step::new(d.pc, insn);
        if let Some(next) = dumps.get(k + 1) {
            s.regs = next
                .regs
                .iter()
                .filter(|(n, v)| d.regs.iter().find(|(m, _)| m == n).map(|r| r.1) != Some(*v))
                .cloned()
                .collect();
        }
        t.steps.push(s);
    }
    t.exit = exit;
    Ok(t)
}

/// Is `qemu` (a QEMU binary name) installed?
pub fn have(qemu: &str) -> bool {
    Command::new(qemu)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run `prog` under QEMU user mode `qemu` with an empty environment in
/// `cwd`, logging a register dump before every instruction; the log and
/// the exit status.
pub fn run_user(qemu: &str, prog: &Path, cwd: &Path) -> Result<(String, i64), String> {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    let log = std::env::temp_dir().join(format!(
        "hemu-difftest-{}-{thread}-{}.log",
        std::process::id(),
        prog.file_name().and_then(|n| n.to_str()).unwrap_or("prog")
    ));
    let out = Command::new(qemu)
        .env_clear()
        .current_dir(cwd)
        .args(["-singlestep", "-d", "cpu,nochain", "-D"])
        .arg(&log)
        .arg(prog)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {qemu}: {e}"))?;
    let text = std::fs::read_to_string(&log);
    let _ = std::fs::remove_file(&log);
    let status = match out.status.code() {
        Some(c) => i64::from(c),
        None => return Err(format!("{qemu} {} was killed", prog.display())),
    };
    Ok((text.map_err(|e| format!("{qemu}: no log: {e}"))?, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_riscv_and_mips_dumps() {
        let rv = " pc       00000000000100b0\n x0/zero  0000000000000000 x1/ra    0000000000000005\n\
                  pc       00000000000100b4\n x0/zero  0000000000000000 x1/ra    0000000000000006\n";
        let d = parse_dumps("riscv", rv);
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].pc, 0x100b4);
        assert_eq!(d[1].regs, [("x1".to_string(), 6)]);
        let m = "pc=0x004000f0 HI=0x00000001 LO=0x00000002 ds 00e2 00000000 0\n\
                 GPR00: r0 00000000 at 00000003 v0 00000000 v1 00000000\n\
                 GPR28: gp 00000000 sp 40800ec0 s8 00000000 ra 00000009\n";
        let d = parse_dumps("mips", m);
        assert_eq!(d[0].pc, 0x4000f0);
        assert!(d[0].regs.contains(&("hi".into(), 1)));
        assert!(d[0].regs.contains(&("r1".into(), 3)));
        assert!(d[0].regs.contains(&("r29".into(), 0x4080_0ec0)));
        assert!(d[0].regs.contains(&("r31".into(), 9)));
        let t = trace_from_dumps(
            crate::format::Header {
                arch: "mips".into(),
                params: Default::default(),
                mode: crate::Mode::User,
                machine: None,
                guest: None,
                argv: Vec::new(),
                source: String::new(),
                stack_top: None,
                stack_data: None,
                notes: Vec::new(),
            },
            &d,
            |_| Some("00000000".into()),
            Some(0),
        )
        .unwrap();
        assert_eq!(t.steps.len(), 1);
    }
}
