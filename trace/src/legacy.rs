//! Reading the line-based "hemu reference trace v1" text files that
//! `cargo xtask traces` wrote before the JSON-lines format (three
//! variants: RISC-V system and user, MIPS user and system, ARMv7-M).
//! `cargo xtask traces` still produces that text from QEMU's logs and
//! converts it with [`convert`]; checked-in traces are JSON lines.
//!
//! The text: `#` comment lines (`# source: WHO; guest: PATH`), then
//! `mode user|system`, `argv ARGS...`, `stack top=HEX`, `arch ISA
//! xlen=N|endian=E`, `machine NAME cpu=CPU`, `init pc=HEX REG=HEX...`,
//! one `step pc=HEX insn=HEX [REG=HEX...] [trap=HEX]` per instruction,
//! and `exit status=HEX` or `end pc=HEX`.

use crate::format::{hex, Header, Mode, Step, Trace, TrapInfo};
use std::collections::BTreeMap;

/// Convert legacy text to a [`Trace`]; errors name the line.
pub fn convert(text: &str) -> Result<Trace, String> {
    let mut h = Header {
        arch: String::new(),
        params: BTreeMap::new(),
        mode: Mode::System,
        machine: None,
        guest: None,
        argv: Vec::new(),
        source: String::new(),
        stack_top: None,
        stack_data: None,
        notes: Vec::new(),
    };
    let mut t = Trace::new(h.clone());
    let mut seen_init = false;
    for (n, line) in text.lines().enumerate() {
        let at = |e: &str| format!("line {}: {e}: {line}", n + 1);
        let f: Vec<&str> = line.split_whitespace().collect();
        let kv = |k: &str| -> Result<u64, String> {
            f.iter()
                .find_map(|w| w.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .and_then(hex)
                .ok_or_else(|| at(&format!("no hex {k}=")))
        };
        let regs = |from: usize| -> Result<Vec<(String, u64)>, String> {
            f.iter()
                .skip(from)
                .filter(|w| !w.starts_with("trap="))
                .map(|w| {
                    let (k, v) = w.split_once('=').ok_or_else(|| at("expected REG=HEX"))?;
                    Ok((k.to_string(), hex(v).ok_or_else(|| at("bad hex value"))?))
                })
                .collect()
        };
        match f.first().copied() {
            None => {}
            Some("#") => {
                let rest = line.trim_start_matches('#').trim();
                if let Some(src) = rest.strip_prefix("source: ") {
                    let (who, guest) = match src.split_once("; guest: ") {
                        Some((w, g)) => (w, Some(g)),
                        None => (src, None),
                    };
                    h.source = who.trim().to_string();
                    if let Some(g) = guest {
                        // "PATH, from its entry to its first sync": a remark.
                        let (path, note) = match g.split_once(", ") {
                            Some((p, n)) => (p, Some(n)),
                            None => (g, None),
                        };
                        h.guest = Some(path.trim().to_string());
                        if let Some(n) = note {
                            h.notes.push(n.trim().to_string());
                        }
                    }
                }
            }
            Some("mode") => {
                h.mode = match f.get(1).copied() {
                    Some("user") => Mode::User,
                    Some("system") => Mode::System,
                    _ => return Err(at("expected mode user|system")),
                }
            }
            Some("argv") => h.argv = f[1..].iter().map(|s| s.to_string()).collect(),
            Some("stack") => h.stack_top = Some(kv("top")?),
            Some("arch") => {
                h.arch = f.get(1).ok_or_else(|| at("no ISA"))?.to_string();
                for w in &f[2..] {
                    let (k, v) = w.split_once('=').ok_or_else(|| at("expected KEY=VALUE"))?;
                    h.params.insert(k.into(), v.into());
                }
            }
            Some("machine") => {
                // Only ARMv7-M traces name their machine.
                h.arch = "armv7m".into();
                h.machine = Some(f.get(1).ok_or_else(|| at("no machine"))?.to_string());
                for w in &f[2..] {
                    let (k, v) = w.split_once('=').ok_or_else(|| at("expected KEY=VALUE"))?;
                    h.params.insert(k.into(), v.into());
                }
            }
            Some("init") => {
                t.init_pc = kv("pc")?;
                t.init = regs(2)?;
                seen_init = true;
            }
            Some("step") => {
                let insn = f
                    .get(2)
                    .and_then(|w| w.strip_prefix("insn="))
                    .ok_or_else(|| at("no insn="))?;
                let mut s = Step::new(kv("pc")?, insn);
                s.regs = regs(3)?;
                if f.iter().any(|w| w.starts_with("trap=")) {
                    s.trap = Some(TrapInfo::Cause(kv("trap")?));
                }
                t.steps.push(s);
            }
            Some("exit") => t.exit = Some(kv("status")? as i64),
            Some("end") => t.end_pc = Some(kv("pc")?),
            Some(w) => return Err(at(&format!("unknown record {w}"))),
        }
    }
    if !seen_init {
        return Err("no init line".into());
    }
    if h.arch.is_empty() {
        return Err("no arch or machine line".into());
    }
    // The machines hemu replays them on: QEMU's riscv `virt`, and for the
    // MIPS system traces (QEMU's Malta) the minimal `mips` board, which
    // has the same CPU and RAM at 0.
    if h.machine.is_none() && h.mode == Mode::System {
        h.machine = Some(match h.arch.as_str() {
            "mips" => "mips".into(),
            _ => "virt".into(),
        });
    }
    t.header = h;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_each_variant() {
        let rv = "# hemu reference trace v1\n# source: qemu-riscv64 7.2; guest: g.elf\nmode user\n\
                  argv g.elf a\nstack top=0000004000801000\narch riscv xlen=64\n\
                  init pc=100b0 x1=0 x2=40\nstep pc=100b0 insn=00100513 x10=1\n\
                  step pc=100b4 insn=00000073 trap=8\nexit status=2a\n";
        let t = convert(rv).unwrap();
        assert_eq!(t.header.mode, Mode::User);
        assert_eq!(t.header.argv, ["g.elf", "a"]);
        assert_eq!(t.header.stack_top, Some(0x40_0080_1000));
        assert_eq!(t.header.params["xlen"], "64");
        assert_eq!(t.init, [("x1".to_string(), 0), ("x2".to_string(), 0x40)]);
        assert_eq!(t.steps[0].regs, [("x10".to_string(), 1)]);
        assert_eq!(t.steps[1].trap, Some(TrapInfo::Cause(8)));
        assert_eq!(t.exit, Some(42));
        let m = "# source: qemu-system-arm; guest: f.elf\nmachine mps2-an386 cpu=cortex-m4\n\
                 init pc=30 r0=0\nstep pc=30 insn=f2400b01 r11=1\n";
        let t = convert(m).unwrap();
        assert_eq!(t.header.arch, "armv7m");
        assert_eq!(t.header.machine.as_deref(), Some("mps2-an386"));
        assert_eq!(t.steps[0].len(), 4);
        let s = "# source: qemu-system-mips; guest: e.elf, from its entry\nmode system\n\
                 arch mips endian=big\ninit pc=80100000 r1=0\nend pc=80100260\n";
        let t = convert(s).unwrap();
        assert_eq!(t.end_pc, Some(0x8010_0260));
        assert_eq!(t.header.machine.as_deref(), Some("mips"));
        assert_eq!(t.header.notes, ["from its entry"]);
        assert!(convert("step pc=0 insn=00\n").is_err());
        assert!(convert("init pc=zz\n").is_err());
    }
}
