//! The human monitor behind QMP's `human-monitor-command`: `info ...`
//! (registers, mtree, qtree, cpus, status, version, qom-tree), memory
//! dumps `x` and `xp`, and the run-control words, in QEMU's formats.
//!
//! Output uses `\n`; the caller turns it into the monitor's `\r\n`.

use super::qom;
use crate::cpu::AccessKind;
use crate::device::PropValue;
use crate::machine::Machine;
use crate::memory::{Bus, Target};
use std::fmt::Write as _;

/// Largest dump `x`/`xp` produce, in bytes.
const MAX_DUMP: u64 = 64 * 1024;

/// What a line asks for beyond text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Text to show.
    Text(String),
    /// Run this QMP command (no arguments) and show nothing on success.
    Qmp(&'static str),
}

/// Commands, as `help` lists them: (names, arguments, description).
const COMMANDS: &[(&str, &str, &str)] = &[
    ("cont|c", "", "resume emulation"),
    ("help|?", "[cmd]", "show the help"),
    (
        "info",
        "[subcommand]",
        "show various information about the system state",
    ),
    ("quit|q", "", "quit the emulator"),
    ("stop|s", "", "stop emulation"),
    ("system_powerdown", "", "send system power down event"),
    ("system_reset", "", "reset the system"),
    ("x", "/fmt addr", "virtual memory dump starting at 'addr'"),
    ("xp", "/fmt addr", "physical memory dump starting at 'addr'"),
];

/// `info` subcommands.
const INFOS: &[(&str, &str, &str)] = &[
    ("cpus", "", "show infos for each CPU"),
    ("mtree", "", "show memory tree"),
    ("qom-tree", "", "show QOM composition tree"),
    ("qtree", "", "show device tree"),
    (
        "registers",
        "[-a]",
        "show the cpu registers (-a: all vCPUs)",
    ),
    ("status", "", "show the current VM status (running|paused)"),
    ("version", "", "show the version of QEMU (and hemu)"),
];

/// What the monitor knows about its surroundings.
pub struct Ctx<'a> {
    /// The machine, if one exists.
    pub machine: Option<&'a mut Machine>,
    /// User-created objects (`/objects`).
    pub objects: &'a crate::machine::user::UserObjects,
    /// The monitor's current vCPU (machine-wide index).
    pub cpu: usize,
    /// `info status` text (`running`, `paused`, `paused (prelaunch)`).
    pub status: &'a str,
    /// Host thread id running the vCPUs.
    pub thread_id: u64,
}

/// Run one monitor line.
pub fn exec(line: &str, cx: Ctx<'_>) -> Outcome {
    let line = line.trim();
    let split = line
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(line.len());
    let (cmd, rest) = (&line[..split], line[split..].trim());
    let text = |s: String| Outcome::Text(s);
    match cmd {
        "" => text(String::new()),
        "help" | "?" => text(help(rest)),
        "c" | "cont" => Outcome::Qmp("cont"),
        "s" | "stop" => Outcome::Qmp("stop"),
        "q" | "quit" => Outcome::Qmp("quit"),
        "system_reset" => Outcome::Qmp("system_reset"),
        "system_powerdown" => Outcome::Qmp("system_powerdown"),
        "info" => text(info(rest, cx)),
        "x" | "xp" => text(match cx.machine {
            None => "no machine\n".into(),
            Some(m) => dump(m, cx.cpu, rest, cmd == "xp").unwrap_or_else(|e| format!("{e}\n")),
        }),
        _ => text(format!("unknown command: '{cmd}'\n")),
    }
}

fn help(topic: &str) -> String {
    let mut out = String::new();
    if topic == "info" {
        for (n, a, d) in INFOS {
            let _ = writeln!(out, "info {n} {a} -- {d}");
        }
        return out;
    }
    for (n, a, d) in COMMANDS {
        if topic.is_empty() || n.split('|').any(|x| x == topic) {
            let _ = writeln!(out, "{n} {a} -- {d}");
        }
    }
    if out.is_empty() {
        out = format!("unknown command: '{topic}'\n");
    }
    out
}

fn info(what: &str, cx: Ctx<'_>) -> String {
    let mut words = what.split_whitespace();
    let sub = words.next().unwrap_or("");
    if sub.is_empty() {
        return help("info");
    }
    match sub {
        "status" => format!("VM status: {}\n", cx.status),
        "version" => {
            let (a, b, c) = super::wire::QEMU_VERSION;
            format!("{a}.{b}.{c} (hemu {})\n", env!("CARGO_PKG_VERSION"))
        }
        "qom-tree" => qom::tree(qom::Tree::new(cx.machine.as_deref(), cx.objects)),
        _ => {
            let Some(m) = cx.machine else {
                return "no machine yet (machine-create first)\n".into();
            };
            match sub {
                "registers" => {
                    if words.next() == Some("-a") {
                        let n = m.clusters.iter().map(|c| c.cpus.len()).sum();
                        (0..n).map(|i| registers(m, i)).collect()
                    } else {
                        registers(m, cx.cpu)
                    }
                }
                "cpus" => {
                    let n: usize = m.clusters.iter().map(|c| c.cpus.len()).sum();
                    (0..n)
                        .map(|i| {
                            let cur = if i == cx.cpu { '*' } else { ' ' };
                            format!("{cur} CPU #{i}: thread_id={}\n", cx.thread_id)
                        })
                        .collect()
                }
                "mtree" => mtree(m),
                "qtree" => qtree(m),
                _ => format!("unknown command: 'info {sub}'\n"),
            }
        }
    }
}

fn registers(m: &Machine, cpu: usize) -> String {
    let Some((c, k)) = qom::cpu_by_index(m, cpu) else {
        return format!("no CPU #{cpu}\n");
    };
    let cl = &m.clusters[c];
    let st = &cl.cpus[k];
    let wb = cl.model.word_bits() as usize / 4;
    let mut out = format!(
        "CPU#{cpu} {}\n pc       {:0wb$x}\n",
        qom::path_of(qom::Tree::of(m), qom::Obj::Cpu(c, k)),
        st.pc
    );
    for f in cl.model.reg_files() {
        let w = (f.bits as usize).div_ceil(4);
        let mask = if f.bits >= 64 {
            u64::MAX
        } else {
            (1u64 << f.bits) - 1
        };
        let prefix = f.name.to_lowercase();
        for (i, name) in f.names.iter().enumerate() {
            let label = if *name == format!("{prefix}{i}") {
                name.to_string()
            } else {
                format!("{prefix}{i}/{name}")
            };
            let v = st.regs.get(f.base + i).copied().unwrap_or(0) & mask;
            let _ = write!(out, " {label:<8} {v:0w$x}");
            if i % 4 == 3 || i + 1 == f.names.len() {
                out.push('\n');
            }
        }
    }
    out
}

fn mtree(m: &Machine) -> String {
    let mut out = String::new();
    for (si, s) in m.spaces.iter().enumerate() {
        let users: Vec<&str> = m
            .clusters
            .iter()
            .filter(|c| c.space == si)
            .map(|c| c.id.as_str())
            .collect();
        let _ = writeln!(
            out,
            "address-space: {} (clusters: {})",
            s.name,
            if users.is_empty() {
                "none".into()
            } else {
                users.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "  0000000000000000-ffffffffffffffff (prio 0, container): {}",
            s.name
        );
        for r in s.regions() {
            let (kind, extra) = match r.target {
                Target::Ram { block, offset } => {
                    let ram = &m.memory.ram[block];
                    let name = ram.path.rsplit('/').next().unwrap_or("");
                    if offset != 0 || name != r.name {
                        ("ram", format!(" (alias of {name} @{offset:016x})"))
                    } else {
                        ("ram", String::new())
                    }
                }
                Target::Mmio { .. } => ("i/o", String::new()),
            };
            let _ = writeln!(
                out,
                "    {:016x}-{:016x} (prio 0, {kind}): {}{extra}",
                r.base,
                r.last(),
                r.name
            );
        }
        out.push('\n');
    }
    out
}

fn qtree(m: &Machine) -> String {
    let mut out = String::from("bus: main-system-bus\n  type System\n");
    for d in qom::devices(m) {
        let slot = &m.memory.devices[d];
        let id = slot.path.rsplit('/').next().unwrap_or("");
        let _ = writeln!(out, "  dev: {}, id \"{id}\"", slot.type_name);
        if let Some(ps) = m.device_props.get(d) {
            for (k, v) in ps {
                let _ = match v {
                    PropValue::U64(n) => writeln!(out, "    {k} = {n} ({n:#x})"),
                    PropValue::Bool(b) => writeln!(out, "    {k} = {b}"),
                    PropValue::Str(s) => writeln!(out, "    {k} = \"{s}\""),
                };
            }
        }
        // IRQ wiring: QEMU's count of outputs, then where each goes.
        let outs = m.irq_outputs(d);
        if let Some(n) = outs.iter().map(|(o, _)| o + 1).max() {
            let _ = writeln!(out, "    gpio-out \"sysbus-irq\" {n}");
        }
        for (o, t) in outs {
            let _ = writeln!(out, "    sysbus-irq[{o}] -> {}", m.irq_target_path(t));
        }
        if let Some(r) = m.memory.devices[d].dev.irq_inputs() {
            let _ = writeln!(
                out,
                "    gpio-in \"\" {} (inputs {}..={})",
                r.end() + 1,
                r.start(),
                r.end()
            );
        }
        for s in &m.spaces {
            for r in s.regions() {
                if r.target == (Target::Mmio { device: d }) {
                    let _ = writeln!(out, "    mmio {:016x}/{:016x}", r.base, r.size);
                }
            }
        }
    }
    out
}

/// Parse `/NFU` (count, format, unit size) as QEMU does.
fn parse_fmt(f: &str) -> Result<(u64, char, u64), String> {
    let digits: String = f.chars().take_while(|c| c.is_ascii_digit()).collect();
    let count = if digits.is_empty() {
        1
    } else {
        digits
            .parse::<u64>()
            .map_err(|_| format!("invalid count '{digits}'"))?
    };
    let (mut format, mut size) = ('x', 4);
    for c in f[digits.len()..].chars() {
        match c {
            'x' | 'd' | 'u' | 'o' | 'c' | 'i' => format = c,
            'b' => size = 1,
            'h' => size = 2,
            'w' => size = 4,
            'g' => size = 8,
            _ => return Err(format!("invalid char in format: '{c}'")),
        }
    }
    if format == 'c' {
        size = 1;
    }
    Ok((count, format, size))
}

/// Evaluate an address: a number, `$pc`, `$<register>`, joined by `+`/`-`.
fn eval(m: &Machine, c: usize, k: usize, expr: &str) -> Result<u64, String> {
    let mut total = 0u64;
    let mut sign = 1i8;
    let mut term = String::new();
    let mut terms = Vec::new();
    for ch in expr.chars().filter(|c| !c.is_whitespace()) {
        if (ch == '+' || ch == '-') && !term.is_empty() {
            terms.push((sign, std::mem::take(&mut term)));
            sign = if ch == '+' { 1 } else { -1 };
        } else {
            term.push(ch);
        }
    }
    terms.push((sign, term));
    let cl = &m.clusters[c];
    let st = &cl.cpus[k];
    for (s, t) in terms {
        let v = if let Some(r) = t.strip_prefix('$') {
            if r == "pc" {
                st.pc
            } else {
                let mut found = None;
                for f in cl.model.reg_files() {
                    let pre = f.name.to_lowercase();
                    for (i, n) in f.names.iter().enumerate() {
                        if *n == r || format!("{pre}{i}") == r {
                            found = st.regs.get(f.base + i).copied();
                        }
                    }
                }
                found.ok_or_else(|| format!("unknown register '{r}'"))?
            }
        } else if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).map_err(|_| format!("invalid number '{t}'"))?
        } else {
            t.parse::<u64>()
                .map_err(|_| format!("invalid address '{t}'"))?
        };
        total = if s > 0 {
            total.wrapping_add(v)
        } else {
            total.wrapping_sub(v)
        };
    }
    Ok(total)
}

/// Read `len` bytes at `addr` as vCPU (c, k) sees them: RAM only (a dump
/// must not poke devices). `phys`: no address translation.
fn read(
    m: &mut Machine,
    c: usize,
    k: usize,
    addr: u64,
    len: u64,
    phys: bool,
) -> Result<Vec<u8>, u64> {
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let va = addr.wrapping_add(i);
        let cl = &mut m.clusters[c];
        let space = &m.spaces[cl.space];
        let pa = if phys {
            va
        } else {
            let mut bus = Bus {
                space,
                mem: &mut m.memory,
            };
            crate::engine::debug_translate(
                &*cl.model,
                &mut cl.cpus[k],
                &mut bus,
                va,
                AccessKind::Load,
            )
            .map_err(|_| va)?
        };
        let r = space.find(pa).ok_or(va)?;
        let Target::Ram { block, offset } = r.target else {
            return Err(va);
        };
        let off = (pa - r.base + offset) as usize;
        out.push(*m.memory.ram[block].bytes().get(off).ok_or(va)?);
    }
    Ok(out)
}

fn dump(m: &mut Machine, cpu: usize, args: &str, phys: bool) -> Result<String, String> {
    let (c, k) = qom::cpu_by_index(m, cpu).ok_or(format!("no CPU #{cpu}"))?;
    let args = args.trim();
    let (fmt, expr) = match args.strip_prefix('/') {
        Some(r) => {
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            (&r[..end], r[end..].trim())
        }
        None => ("", args),
    };
    if expr.is_empty() {
        return Err("missing address".into());
    }
    let (count, format, size) = parse_fmt(fmt)?;
    let addr = eval(m, c, k, expr)?;
    let cl = &m.clusters[c];
    let aw = cl.model.word_bits() as usize / 4;
    let little = cl.model.endian() == crate::ir::Endian::Little;
    let mut out = String::new();
    if format == 'i' {
        let (_, max) = cl.model.insn_len_range();
        let mut a = addr;
        for _ in 0..count.min(4096) {
            let bytes = read(m, c, k, a, max as u64, phys)
                .or_else(|_| {
                    read(
                        m,
                        c,
                        k,
                        a,
                        m.clusters[c].model.insn_len_range().0 as u64,
                        phys,
                    )
                })
                .map_err(|e| format!("Cannot access memory at {e:#x}"))?;
            match m.clusters[c].model.disassemble(&bytes, a) {
                Ok((text, len)) => {
                    let insn = &bytes[..len.min(bytes.len())];
                    // The instruction as a number, in the ISA's byte order.
                    let hex: String = if little {
                        insn.iter().rev().map(|b| format!("{b:02x}")).collect()
                    } else {
                        insn.iter().map(|b| format!("{b:02x}")).collect()
                    };
                    let _ = writeln!(out, "0x{a:0aw$x}:  {hex:<16}  {text}");
                    a = a.wrapping_add(len.max(1) as u64);
                }
                Err(_) => {
                    let _ = writeln!(out, "0x{a:0aw$x}:  (bad)");
                    a = a.wrapping_add(m.clusters[c].model.insn_len_range().0.max(1) as u64);
                }
            }
        }
        return Ok(out);
    }
    let total = count.saturating_mul(size);
    if total > MAX_DUMP {
        return Err(format!("dump too large: at most {MAX_DUMP} bytes"));
    }
    let data =
        read(m, c, k, addr, total, phys).map_err(|e| format!("Cannot access memory at {e:#x}"))?;
    let per_line = if size <= 2 { 8 } else { 16 / size as usize };
    for (i, item) in data.chunks(size as usize).enumerate() {
        if i % per_line == 0 {
            if i > 0 {
                out.push('\n');
            }
            let _ = write!(out, "{:0aw$x}:", addr.wrapping_add(i as u64 * size));
        }
        let mut v = 0u64;
        for (j, b) in item.iter().enumerate() {
            let sh = if little { j } else { item.len() - 1 - j };
            v |= (*b as u64) << (8 * sh);
        }
        let digits = size as usize * 2;
        let bits = size as u32 * 8;
        let _ = match format {
            'x' => write!(out, " 0x{v:0digits$x}"),
            'o' => write!(out, " {v:#o}"),
            'u' => write!(out, " {v}"),
            'd' => {
                let sv = ((v << (64 - bits)) as i64) >> (64 - bits);
                write!(out, " {sv}")
            }
            _ => {
                let ch = v as u8;
                if ch.is_ascii_graphic() || ch == b' ' {
                    write!(out, " '{}'", ch as char)
                } else {
                    write!(out, " '\\x{ch:02x}'")
                }
            }
        };
    }
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_as_qemu_does() {
        assert_eq!(parse_fmt("").unwrap(), (1, 'x', 4));
        assert_eq!(parse_fmt("10xg").unwrap(), (10, 'x', 8));
        assert_eq!(parse_fmt("4i").unwrap(), (4, 'i', 4));
        assert_eq!(parse_fmt("3c").unwrap(), (3, 'c', 1));
        assert!(parse_fmt("2z").is_err());
        assert!(help("").contains("xp /fmt addr -- "));
        assert!(help("info").contains("info registers"));
    }
}
