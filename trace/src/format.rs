//! The hemu trace format, version 1: JSON lines (see
//! `docs/trace-format.md`, which this module implements).
//!
//! One JSON object per line: a header (`{"hemu_trace": 1, ...}`), an
//! `init` record (the registers and pc before the first instruction),
//! one record per retired instruction, and optionally an `exit` record.
//! Numbers that can exceed 2^53 (addresses, register values) are hex
//! strings without `0x`, so every JSON reader keeps them exact.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The format version this library writes and reads.
pub const VERSION: u64 = 1;

/// System mode (a machine) or Linux user mode (a program).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A machine (`hemu -M ...`, `qemu-system-*`).
    System,
    /// A Linux program (`hemu run`, `qemu-<arch>`).
    User,
}

/// The first record: what was traced, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Frontend name (`riscv`, `mips`, `armv7m`).
    pub arch: String,
    /// Frontend parameters that matter to the trace (`xlen`, `endian`, `cpu`).
    pub params: BTreeMap<String, String>,
    /// System or user mode.
    pub mode: Mode,
    /// Machine name or file (system mode).
    pub machine: Option<String>,
    /// The guest image, relative to the workspace root when it is in it.
    pub guest: Option<String>,
    /// The program's arguments (user mode), argv\[0\] first.
    pub argv: Vec<String>,
    /// Who produced the trace (`hemu 0.1.0 interp`, `qemu-riscv64 7.2 ...`).
    pub source: String,
    /// End of the initial stack mapping (user mode), when known.
    pub stack_top: Option<u64>,
    /// Lowest address of the data Linux puts at the top of the initial
    /// stack, above the argc/argv/envp/auxv table (strings, AT_RANDOM
    /// bytes), when known (user mode).
    pub stack_data: Option<u64>,
    /// Free-form remarks (how the reference was run, what it covers).
    pub notes: Vec<String>,
}

/// A trap (exception or interrupt) taken at an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapInfo {
    /// The ISA's cause number.
    Cause(u64),
    /// A trap was taken; the recorder does not know its cause.
    Unknown,
}

/// One memory write of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemWrite {
    /// Guest virtual address.
    pub addr: u64,
    /// Size in bytes (1, 2, 4, 8).
    pub size: u8,
    /// The value written (as a number, whatever the byte order).
    pub value: u64,
}

/// One retired instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Cluster index (0 for single-ISA machines and user mode).
    pub cluster: u32,
    /// vCPU index in its cluster.
    pub cpu: u32,
    /// Address of the instruction.
    pub pc: u64,
    /// The instruction's bits as hex digits (see `hemu_difftest::isa::insn_hex`);
    /// its length in bytes is half the number of digits.
    pub insn: String,
    /// Disassembly, when the producer had it.
    pub dis: Option<String>,
    /// Registers whose value changed, with the new value.
    pub regs: Vec<(String, u64)>,
    /// Memory writes, when recorded.
    pub mem: Vec<MemWrite>,
    /// The instruction trapped (the next record is the handler's).
    pub trap: Option<TrapInfo>,
    /// The register state after this record was not observed on its own
    /// (a branch and its delay slot retire together): its changes are
    /// folded into the next record, and comparisons skip this point.
    pub nostate: bool,
}

impl Step {
    /// A step at `pc` with bits `insn` and no changes.
    pub fn new(pc: u64, insn: impl Into<String>) -> Step {
        Step {
            cluster: 0,
            cpu: 0,
            pc,
            insn: insn.into(),
            dis: None,
            regs: Vec::new(),
            mem: Vec::new(),
            trap: None,
            nostate: false,
        }
    }

    /// Length of the instruction in bytes.
    pub fn len(&self) -> usize {
        self.insn.len() / 2
    }

    /// The instruction has no bits (never true of a valid record).
    pub fn is_empty(&self) -> bool {
        self.insn.is_empty()
    }
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The header record.
    pub header: Header,
    /// pc before the first instruction.
    pub init_pc: u64,
    /// Every register's value before the first instruction.
    pub init: Vec<(String, u64)>,
    /// One record per retired instruction.
    pub steps: Vec<Step>,
    /// How the program or machine ended: exit status, when it did.
    pub exit: Option<i64>,
    /// The pc after the last record, when known (a trace cut at a marker).
    pub end_pc: Option<u64>,
}

impl Trace {
    /// An empty trace with `header`.
    pub fn new(header: Header) -> Trace {
        Trace {
            header,
            init_pc: 0,
            init: Vec::new(),
            steps: Vec::new(),
            exit: None,
            end_pc: None,
        }
    }

    /// Read a trace file.
    pub fn load(path: &Path) -> Result<Trace, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Trace::parse(&text).map_err(|e| format!("{}:{e}", path.display()))
    }

    /// Write a trace file.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, self.to_jsonl()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse JSON-lines text; errors start with the line number.
    pub fn parse(text: &str) -> Result<Trace, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or("1: empty trace")?;
        let header = parse_header(first).map_err(|e| format!("1: {e}"))?;
        let mut t = Trace::new(header);
        let mut seen_init = false;
        for (n, line) in lines {
            let at = |e: String| format!("{}: {e}", n + 1);
            let v: Value = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
            let o = v
                .as_object()
                .ok_or_else(|| at("not a JSON object".into()))?;
            if let Some(init) = o.get("init") {
                let io = init
                    .as_object()
                    .ok_or_else(|| at("init: not an object".into()))?;
                t.init_pc = hex_field(io, "pc").map_err(at)?;
                t.init = regs_field(io.get("regs")).map_err(at)?;
                seen_init = true;
            } else if let Some(e) = o.get("end") {
                let h = e.as_str().and_then(hex);
                t.end_pc = Some(h.ok_or_else(|| at("end: not a hex string".into()))?);
            } else if let Some(x) = o.get("exit") {
                t.exit = Some(
                    x.as_i64()
                        .ok_or_else(|| at("exit: not an integer".into()))?,
                );
            } else if o.contains_key("pc") {
                t.steps.push(parse_step(o).map_err(at)?);
            } else {
                return Err(at("unknown record (no init, end, exit or pc)".into()));
            }
        }
        if !seen_init {
            return Err("no init record".into());
        }
        Ok(t)
    }

    /// The trace as JSON lines.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let h = &self.header;
        let mut ho = Map::new();
        ho.insert("hemu_trace".into(), json!(VERSION));
        ho.insert("arch".into(), json!(h.arch));
        ho.insert("params".into(), json!(h.params));
        ho.insert(
            "mode".into(),
            json!(match h.mode {
                Mode::System => "system",
                Mode::User => "user",
            }),
        );
        if let Some(m) = &h.machine {
            ho.insert("machine".into(), json!(m));
        }
        if let Some(g) = &h.guest {
            ho.insert("guest".into(), json!(g));
        }
        if !h.argv.is_empty() {
            ho.insert("argv".into(), json!(h.argv));
        }
        ho.insert("source".into(), json!(h.source));
        if let Some(s) = h.stack_top {
            ho.insert("stack_top".into(), json!(format!("{s:x}")));
        }
        if let Some(s) = h.stack_data {
            ho.insert("stack_data".into(), json!(format!("{s:x}")));
        }
        if !h.notes.is_empty() {
            ho.insert("notes".into(), json!(h.notes));
        }
        let _ = writeln!(out, "{}", Value::Object(ho));
        let _ = writeln!(
            out,
            "{}",
            json!({"init": {"pc": format!("{:x}", self.init_pc), "regs": regs_value(&self.init)}})
        );
        for s in &self.steps {
            let _ = writeln!(out, "{}", step_value(s));
        }
        if let Some(pc) = self.end_pc {
            let _ = writeln!(out, "{}", json!({ "end": format!("{pc:x}") }));
        }
        if let Some(x) = self.exit {
            let _ = writeln!(out, "{}", json!({ "exit": x }));
        }
        out
    }
}

fn parse_header(line: &str) -> Result<Header, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let o = v.as_object().ok_or("the header is not a JSON object")?;
    let version = o
        .get("hemu_trace")
        .and_then(Value::as_u64)
        .ok_or("not a hemu trace (no \"hemu_trace\" version in the first line)")?;
    if version != VERSION {
        return Err(format!(
            "hemu trace version {version}; this hemu reads version {VERSION}"
        ));
    }
    let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    let strings = |k: &str| -> Vec<String> {
        o.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let params = o
        .get("params")
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mode = match s("mode").as_deref() {
        Some("system") | None => Mode::System,
        Some("user") => Mode::User,
        Some(m) => return Err(format!("mode {m}: expected system or user")),
    };
    let addr = |k: &str| match s(k) {
        Some(h) => hex(&h).map(Some).ok_or(format!("{k} {h}: not hex")),
        None => Ok(None),
    };
    let stack_top = addr("stack_top")?;
    let stack_data = addr("stack_data")?;
    Ok(Header {
        arch: s("arch").ok_or("the header has no arch")?,
        params,
        mode,
        machine: s("machine"),
        guest: s("guest"),
        argv: strings("argv"),
        source: s("source").unwrap_or_default(),
        stack_top,
        stack_data,
        notes: strings("notes"),
    })
}

fn parse_step(o: &Map<String, Value>) -> Result<Step, String> {
    let insn = o
        .get("insn")
        .and_then(Value::as_str)
        .ok_or("a step without insn")?
        .to_string();
    if insn.is_empty() || insn.len() % 2 != 0 || !insn.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "insn {insn}: expected an even number of hex digits"
        ));
    }
    let num = |k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
    let trap = match o.get("trap") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "?" => Some(TrapInfo::Unknown),
        Some(Value::String(s)) => Some(TrapInfo::Cause(
            hex(s).ok_or(format!("trap {s}: not hex or ?"))?,
        )),
        Some(v) => return Err(format!("trap {v}: expected a hex string or \"?\"")),
    };
    let mut mem = Vec::new();
    if let Some(list) = o.get("mem").and_then(Value::as_array) {
        for w in list {
            let a = w
                .as_array()
                .filter(|a| a.len() == 3)
                .ok_or("mem: expected [addr, size, value] triples")?;
            let h = |v: &Value| {
                v.as_str()
                    .and_then(hex)
                    .ok_or(format!("mem: {v} is not hex"))
            };
            mem.push(MemWrite {
                addr: h(&a[0])?,
                size: a[1].as_u64().ok_or("mem: size is not a number")? as u8,
                value: h(&a[2])?,
            });
        }
    }
    Ok(Step {
        cluster: num("cl"),
        cpu: num("cpu"),
        pc: hex_field(o, "pc")?,
        insn,
        dis: o.get("dis").and_then(Value::as_str).map(str::to_string),
        regs: regs_field(o.get("regs"))?,
        mem,
        trap,
        nostate: o.get("nostate").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn step_value(s: &Step) -> Value {
    let mut o = Map::new();
    // Cluster and vCPU only when not 0: most traces have one vCPU.
    if s.cluster != 0 {
        o.insert("cl".into(), json!(s.cluster));
    }
    if s.cpu != 0 {
        o.insert("cpu".into(), json!(s.cpu));
    }
    o.insert("pc".into(), json!(format!("{:x}", s.pc)));
    o.insert("insn".into(), json!(s.insn));
    if let Some(d) = &s.dis {
        o.insert("dis".into(), json!(d));
    }
    if !s.regs.is_empty() {
        o.insert("regs".into(), regs_value(&s.regs));
    }
    if !s.mem.is_empty() {
        let m: Vec<Value> = s
            .mem
            .iter()
            .map(|w| json!([format!("{:x}", w.addr), w.size, format!("{:x}", w.value)]))
            .collect();
        o.insert("mem".into(), Value::Array(m));
    }
    match s.trap {
        Some(TrapInfo::Cause(c)) => {
            o.insert("trap".into(), json!(format!("{c:x}")));
        }
        Some(TrapInfo::Unknown) => {
            o.insert("trap".into(), json!("?"));
        }
        None => {}
    }
    if s.nostate {
        o.insert("nostate".into(), json!(true));
    }
    Value::Object(o)
}

/// Registers in record order (the order they were given), as an object.
fn regs_value(regs: &[(String, u64)]) -> Value {
    let mut m = Map::new();
    for (k, v) in regs {
        m.insert(k.clone(), json!(format!("{v:x}")));
    }
    Value::Object(m)
}

fn regs_field(v: Option<&Value>) -> Result<Vec<(String, u64)>, String> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let o = v.as_object().ok_or("regs: not an object")?;
    o.iter()
        .map(|(k, v)| {
            let s = v.as_str().ok_or(format!("regs.{k}: not a hex string"))?;
            Ok((
                k.clone(),
                hex(s).ok_or(format!("regs.{k}: {s} is not hex"))?,
            ))
        })
        .collect()
}

fn hex_field(o: &Map<String, Value>, k: &str) -> Result<u64, String> {
    let s = o
        .get(k)
        .and_then(Value::as_str)
        .ok_or(format!("no {k} (a hex string)"))?;
    hex(s).ok_or(format!("{k} {s}: not hex"))
}

/// Parse hex digits (at most 16, no prefix).
pub fn hex(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trace {
        let mut t = Trace::new(Header {
            arch: "riscv".into(),
            params: [("xlen".to_string(), "64".to_string())].into(),
            mode: Mode::User,
            machine: None,
            guest: Some("g.elf".into()),
            argv: vec!["g.elf".into(), "x".into()],
            source: "test".into(),
            stack_top: Some(0x4000801000),
            stack_data: Some(0x4000800f80),
            notes: vec!["n".into()],
        });
        t.init_pc = 0x100b0;
        t.init = vec![("x1".into(), 0), ("x2".into(), 0xffff_ffff_ffff_fff0)];
        let mut s = Step::new(0x100b0, "00100513");
        s.regs.push(("x10".into(), 1));
        s.dis = Some("li a0,1".into());
        s.trap = Some(TrapInfo::Cause(8));
        s.mem.push(MemWrite {
            addr: 0x1000,
            size: 4,
            value: 7,
        });
        t.steps.push(s);
        let mut s = Step::new(0x100b4, "4501");
        s.nostate = true;
        s.cpu = 1;
        s.trap = Some(TrapInfo::Unknown);
        t.steps.push(s);
        t.exit = Some(42);
        t.end_pc = Some(0x100b6);
        t
    }

    #[test]
    fn round_trips() {
        let t = sample();
        let text = t.to_jsonl();
        assert_eq!(Trace::parse(&text).unwrap(), t);
        assert_eq!(t.steps[1].len(), 2);
    }

    #[test]
    fn rejects_bad_input_with_line_numbers() {
        assert!(Trace::parse("").is_err());
        let e = Trace::parse("{\"hemu_trace\": 2, \"arch\": \"riscv\"}").unwrap_err();
        assert!(e.contains("version 2"), "{e}");
        let e = Trace::parse("{\"arch\": \"riscv\"}").unwrap_err();
        assert!(e.contains("not a hemu trace"), "{e}");
        let good = sample().to_jsonl();
        let bad = good.replace("\"pc\":\"100b4\"", "\"pc\":\"zz\"");
        let e = Trace::parse(&bad).unwrap_err();
        assert!(e.starts_with("4: "), "{e}");
        let e = Trace::parse(&good.replace("00100513", "0010051")).unwrap_err();
        assert!(e.contains("even number"), "{e}");
        let no_init: String = good
            .lines()
            .filter(|l| !l.contains("init"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(Trace::parse(&no_init).unwrap_err().contains("no init"));
    }
}
