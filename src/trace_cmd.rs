//! `--trace FILE[,regs|mem|insn]`: record one hemu trace record per
//! retired instruction (the format of `docs/trace-format.md`) instead of
//! running at full speed. Tracing single-steps: blocks of one
//! instruction, which the JIT hands to the interpreter, so `--accel`
//! changes nothing in the trace (and tracing runs at interpreter speed).

use hemu_difftest::format::{Header, Mode};
use hemu_difftest::record::{self, Options};
use hemu_difftest::Trace;
use hemu_runtime::Machine;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A parsed `--trace` argument.
#[derive(Debug)]
pub struct TraceSpec {
    /// Output file.
    pub path: PathBuf,
    /// Options for the recorder.
    pub opts: Options,
}

/// Parse `FILE[,regs|mem|insn...]`: without options every record has the
/// changed registers, the memory writes and the disassembly; with options
/// only what they name (`regs`: registers, `mem`: memory writes, `insn`:
/// disassembly).
pub fn parse(spec: &str) -> Result<TraceSpec, String> {
    let mut parts = spec.split(',');
    let file = parts.next().filter(|f| !f.is_empty());
    let file = file.ok_or("--trace: expected FILE[,regs|mem|insn]")?;
    let mut opts = Options::default();
    let flags: Vec<&str> = parts.collect();
    if !flags.is_empty() {
        opts.regs = false;
        opts.dis = false;
        opts.mem = false;
    }
    for f in flags {
        match f {
            "regs" => opts.regs = true,
            "insn" => opts.dis = true,
            "mem" => opts.mem = true,
            other => {
                return Err(format!(
                    "--trace: unknown option '{other}' (expected regs, mem or insn)"
                ))
            }
        }
    }
    Ok(TraceSpec {
        path: PathBuf::from(file),
        opts,
    })
}

fn engine_name(accel: Option<&str>) -> String {
    let env = std::env::var("HEMU_ACCEL").ok().filter(|s| !s.is_empty());
    accel
        .map(str::to_string)
        .or(env)
        .unwrap_or_else(|| "jit".into())
}

fn save(t: &Trace, path: &Path) -> Result<(), String> {
    t.save(path).map_err(|e| format!("--trace: {e}"))
}

/// Trace machine `m` (loaded and reset) to its end or `max_insns`
/// records; the run's exit status (`None`: the limit), or `Err` for a
/// crash (after writing the trace so far).
pub fn trace_machine(
    m: &mut Machine,
    spec: &TraceSpec,
    machine: &str,
    guest: Option<&Path>,
    accel: Option<&str>,
    max_insns: Option<u64>,
) -> Result<Result<Option<i64>, String>, String> {
    let model = &m.clusters[0].model;
    let mut params = BTreeMap::new();
    if model.isa_name() == "riscv" {
        params.insert("xlen".into(), model.word_bits().to_string());
    }
    if model.isa_name() == "mips" {
        let e = match model.endian() {
            hemu_runtime::ir::Endian::Big => "big",
            hemu_runtime::ir::Endian::Little => "little",
        };
        params.insert("endian".into(), e.into());
    }
    let header = Header {
        arch: model.isa_name().into(),
        params,
        mode: Mode::System,
        machine: Some(machine.into()),
        guest: guest.map(|g| g.display().to_string()),
        argv: Vec::new(),
        source: format!(
            "hemu {} --accel {}",
            env!("CARGO_PKG_VERSION"),
            engine_name(accel)
        ),
        stack_top: None,
        stack_data: None,
        notes: Vec::new(),
    };
    let mut opts = spec.opts.clone();
    opts.max_steps = max_insns.map(|n| n as usize);
    let r = record::record_machine(m, header, &opts);
    save(&r.trace, &spec.path)?;
    Ok(match r.failure {
        Some(e) => Err(e),
        None => Ok(r.trace.exit),
    })
}

/// `hemu run --trace`: run the Linux program `cmd[0]` with its arguments
/// and the host's environment, tracing it; its exit status.
pub fn trace_program(
    frontends: &[&dyn hemu_runtime::cpu::Frontend],
    spec: &TraceSpec,
    cmd: &[OsString],
    opts: hemu_runtime::linux::Options,
    accel: Option<&str>,
) -> Result<i64, String> {
    let (prog, args) = cmd.split_first().ok_or("run: no program given")?;
    let prog = Path::new(prog);
    let name = prog.display().to_string();
    let max = opts.max_insns;
    let mut p = hemu_runtime::linux::load_program(frontends, prog, args, opts)?;
    let isa = p.model().isa_name();
    let mut params = BTreeMap::new();
    if isa == "riscv" {
        params.insert("xlen".into(), p.model().word_bits().to_string());
    }
    if isa == "mips" {
        let e = match p.model().endian() {
            hemu_runtime::ir::Endian::Big => "big",
            hemu_runtime::ir::Endian::Little => "little",
        };
        params.insert("endian".into(), e.into());
    }
    let header = Header {
        arch: isa.into(),
        params,
        mode: Mode::User,
        machine: None,
        guest: Some(name.clone()),
        argv: cmd
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        source: format!(
            "hemu {} --accel {}",
            env!("CARGO_PKG_VERSION"),
            engine_name(accel)
        ),
        stack_top: Some(p.memory().stack_top),
        stack_data: hemu_difftest::replay::at_random(&p).ok(),
        notes: Vec::new(),
    };
    let mut ropts = spec.opts.clone();
    ropts.max_steps = max.map(|n| n as usize);
    let r = record::record_process(&mut p, header, &ropts);
    let (t, err) = (r.trace, r.failure);
    save(&t, &spec.path)?;
    match (err, t.exit) {
        (Some(e), _) => Err(format!("{name}: {e}")),
        (None, Some(x)) => Ok(x),
        (None, None) => {
            eprintln!("hemu: instruction limit reached");
            Ok(3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trace_specs() {
        let s = parse("t.jsonl").unwrap();
        assert!(s.opts.regs && s.opts.dis && s.opts.mem);
        let s = parse("t.jsonl,regs").unwrap();
        assert!(s.opts.regs && !s.opts.dis);
        let s = parse("t.jsonl,insn,regs").unwrap();
        assert!(s.opts.regs && s.opts.dis && !s.opts.mem);
        let s = parse("t.jsonl,mem").unwrap();
        assert!(s.opts.mem && !s.opts.regs && !s.opts.dis);
        assert!(parse("t.jsonl,bogus")
            .unwrap_err()
            .contains("unknown option"));
        assert!(parse(",regs").is_err());
    }
}
