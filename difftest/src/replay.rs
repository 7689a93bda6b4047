//! hemu against a reference trace: build what the trace ran (machine or
//! Linux program), start it from the reference's registers where the
//! reference's own reset code left values hemu does not have, record it,
//! compare under the guest's rules.

use crate::compare::{compare, Known, Rules, Summary};
use crate::format::{hex, Mode, Trace};
use crate::isa::RegView;
use crate::record::{self, Options, Recording};
use hemu_runtime::linux::{elf, select_model, Process};
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::Machine;
use serde_json::Value;
use std::path::Path;

/// Which hemu engine runs the trace (tracing single-steps: the JIT hands
/// one-instruction blocks to the interpreter, so both give one trace).
pub type Engine = Option<fn() -> Box<dyn hemu_runtime::engine::Engine>>;

/// A change to the CPU model hemu runs with (tests inject spec bugs
/// through it, see [`crate::mutant`]).
pub type ModelHook =
    fn(Box<dyn hemu_runtime::cpu::CpuModel>) -> Box<dyn hemu_runtime::cpu::CpuModel>;

/// One known divergence of the checked-in allowlist.
#[derive(Clone, Debug)]
pub struct AllowEntry {
    /// Guests (trace names without extension) it applies to.
    pub guests: Vec<String>,
    /// The difference.
    pub known: Known,
}

/// The checked-in allowlist of known divergences
/// (`tests/traces/allowlist.json`): every entry names the guests, the
/// register, both values and the reason.
#[derive(Clone, Debug, Default)]
pub struct Allowlist(pub Vec<AllowEntry>);

impl Allowlist {
    /// Read the allowlist file (a JSON array of `{"guests": [...], "reg":
    /// "x20", "hemu": "6", "reference": "4", "reason": "..."}`).
    pub fn load(path: &Path) -> Result<Allowlist, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Allowlist::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse allowlist JSON.
    pub fn parse(text: &str) -> Result<Allowlist, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let list = v.as_array().ok_or("expected a JSON array")?;
        let mut out = Vec::new();
        for (i, e) in list.iter().enumerate() {
            let s = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .ok_or(format!("entry {i}: no {k}"))
            };
            let h = |k: &str| s(k).and_then(|v| hex(v).ok_or(format!("entry {i}: {k} not hex")));
            let guests = e
                .get("guests")
                .and_then(Value::as_array)
                .ok_or(format!("entry {i}: no guests"))?
                .iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect();
            let reason = s("reason")?.to_string();
            if reason.trim().is_empty() {
                return Err(format!("entry {i}: a known divergence needs its reason"));
            }
            out.push(AllowEntry {
                guests,
                known: Known {
                    reg: s("reg")?.to_string(),
                    candidate: h("hemu")?,
                    reference: h("reference")?,
                    reason,
                },
            });
        }
        Ok(Allowlist(out))
    }

    /// The known divergences of guest `name`.
    pub fn for_guest(&self, name: &str) -> Vec<Known> {
        self.0
            .iter()
            .filter(|e| e.guests.iter().any(|g| g == name))
            .map(|e| e.known.clone())
            .collect()
    }
}

/// The frontend registry of this build.
pub fn registry() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

/// Build and reset the machine a system-mode reference names, with its
/// guest loaded.
pub fn build_machine(reference: &Trace, root: &Path, engine: Engine) -> Result<Machine, String> {
    let h = &reference.header;
    let name = h.machine.as_deref().ok_or("the trace names no machine")?;
    let file = if name.ends_with(".yaml") {
        root.join(name)
    } else {
        root.join(format!("machines/{name}.yaml"))
    };
    // The parameters each ISA's traces carry (the Cortex-M boards fix
    // their core: `cpu` only names it).
    let params = h
        .params
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "xlen" | "endian"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let opts = BuildOptions {
        params,
        engine,
        ..Default::default()
    };
    let mut m = Machine::from_file(&file, &registry(), opts).map_err(|e| e.to_string())?;
    let guest = h.guest.as_deref().ok_or("the trace names no guest")?;
    let elf = std::fs::read(root.join(guest)).map_err(|e| format!("{guest}: {e}"))?;
    m.load_elf(&elf).map_err(|e| format!("{guest}: {e}"))?;
    m.reset();
    Ok(m)
}

/// Create the process a user-mode reference ran: its argv (paths
/// relative to `root`), an empty environment, a fixed seed.
pub fn build_process(
    reference: &Trace,
    root: &Path,
    engine: Engine,
    hook: Option<ModelHook>,
) -> Result<Process, String> {
    let h = &reference.header;
    let guest = h
        .guest
        .clone()
        .or_else(|| h.argv.first().cloned())
        .ok_or("the trace names no program")?;
    let image = std::fs::read(root.join(&guest)).map_err(|e| format!("{guest}: {e}"))?;
    let eh = elf::header(&image).map_err(|e| format!("{guest}: {e}"))?;
    let (model, abi) = select_model(hemu_frontends::FRONTENDS, &eh)?;
    let model = match hook {
        Some(f) => f(model),
        None => model,
    };
    let argv: Vec<Vec<u8>> = if h.argv.is_empty() {
        vec![guest.as_bytes().to_vec()]
    } else {
        h.argv.iter().map(|a| a.as_bytes().to_vec()).collect()
    };
    let opts = hemu_runtime::linux::Options {
        seed: Some(1),
        engine: engine.map(|f| f()),
        ..Default::default()
    };
    Process::new(model, abi, &image, &argv, &[], root.join(&guest), opts)
}

/// Record hemu running what `reference` ran. System mode starts from the
/// reference's registers and pc (QEMU's reset ROM leaves values in
/// some) except on Cortex-M, whose reset hemu performs itself; user mode
/// starts from hemu's own loader (compared at the entry). At most as
/// many records as the reference has (user mode: a few more, to see an
/// overlong run). `Err` when hemu cannot run the guest at all.
pub fn record_hemu(
    reference: &Trace,
    root: &Path,
    engine: Engine,
    dis: bool,
) -> Result<Recording, String> {
    record_hemu_with(reference, root, engine, dis, None)
}

/// [`record_hemu`] with the CPU model changed by `hook`.
pub fn record_hemu_with(
    reference: &Trace,
    root: &Path,
    engine: Engine,
    dis: bool,
    hook: Option<ModelHook>,
) -> Result<Recording, String> {
    let mut header = reference.header.clone();
    let engine_name = engine.map_or_else(
        || hemu_runtime::jit::default_engine().name(),
        |f| f().name(),
    );
    header.source = format!("hemu {} --accel {engine_name}", env!("CARGO_PKG_VERSION"));
    header.notes.clear();
    let mut opts = Options {
        dis,
        ..Default::default()
    };
    match reference.header.mode {
        Mode::System => {
            let mut m = build_machine(reference, root, engine)?;
            if let Some(h) = hook {
                // Swap the boot cluster's model for the hooked one (a fresh
                // model of the same frontend holds its place meanwhile).
                let isa = m.clusters[0].model.isa_name();
                let params: Vec<(String, String)> = reference
                    .header
                    .params
                    .iter()
                    .filter(|(k, _)| matches!(k.as_str(), "xlen" | "endian"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let placeholder = hemu_frontends::FRONTENDS
                    .iter()
                    .find(|f| f.name() == isa)
                    .ok_or(format!("no frontend {isa}"))?
                    .configure(&params)?;
                let model = std::mem::replace(&mut m.clusters[0].model, placeholder);
                m.clusters[0].model = h(model);
            }
            opts.max_steps = Some(reference.steps.len());
            if reference.header.arch != "armv7m" {
                opts.init = reference.init.clone();
                m.clusters[0].cpus[0].pc = reference.init_pc;
            }
            Ok(record::record_machine(&mut m, header, &opts))
        }
        Mode::User => {
            let mut p = build_process(reference, root, engine, hook)?;
            header.stack_top = Some(p.memory().stack_top);
            header.stack_data = at_random(&p).ok();
            opts.max_steps = Some(reference.steps.len() + 16);
            Ok(record::record_process(&mut p, header, &opts))
        }
    }
}

/// The rules for comparing hemu's `candidate` with `reference`: register
/// width from the ISA, the user-mode stack as offsets, the allowlist.
pub fn rules_for(reference: &Trace, candidate: &Trace, known: Vec<Known>) -> Rules {
    let mut r = Rules {
        known,
        ..Default::default()
    };
    r.bits = match reference.header.params.get("xlen").map(String::as_str) {
        Some("32") => 32,
        Some(_) => 64,
        // MIPS and Cortex-M registers are 32-bit; MIPS FPRs hold 64
        // bits, compared whole.
        None if reference.header.arch == "riscv" => 64,
        None => 64,
    };
    if reference.header.mode == Mode::User {
        r.syscalls = crate::compare::SyscallAbi::of(&reference.header.arch);
        if let Some(sp) = RegView::sp_name(&reference.header.arch) {
            r.user_stack(reference, candidate, sp);
        }
    }
    r
}

/// Record hemu for `reference` and compare: the summary, or the report
/// of the first divergence (a multi-line text).
pub fn difftest(
    reference: &Trace,
    root: &Path,
    allow: &[Known],
    engine: Engine,
) -> Result<Summary, String> {
    difftest_with(reference, root, allow, engine, None)
}

/// [`difftest`] with hemu's CPU model changed by `hook`.
pub fn difftest_with(
    reference: &Trace,
    root: &Path,
    allow: &[Known],
    engine: Engine,
    hook: Option<ModelHook>,
) -> Result<Summary, String> {
    let Recording {
        trace: cand,
        failure,
    } = record_hemu_with(reference, root, engine, true, hook)
        .map_err(|e| format!("hemu could not run the guest: {e}"))?;
    let rules = rules_for(reference, &cand, allow.to_vec());
    match compare(reference, &cand, &rules) {
        Ok(s) => match failure {
            Some(e) => Err(format!("hemu stopped: {e}")),
            None => Ok(s),
        },
        Err(d) => {
            let also = failure.map_or(String::new(), |e| format!("  (hemu stopped: {e})\n"));
            Err(format!("{d}{also}"))
        }
    }
}

/// The `AT_RANDOM` pointer on a new process's initial stack: the lowest
/// of the data above the argc/argv/envp/auxv table.
pub fn at_random(p: &Process) -> Result<u64, String> {
    const AT_RANDOM: u64 = 25;
    let sp_reg = p.abi().sp_reg;
    let mask = if p.model().word_bits() == 32 {
        0xffff_ffff
    } else {
        u64::MAX
    };
    let sp = p.cpu().regs[sp_reg] & mask;
    let w = u64::from(p.model().word_bits() / 8);
    let word = |a: u64| {
        p.memory()
            .read_word(a)
            .map_err(|e| format!("initial stack at {a:#x}: {e:?}"))
    };
    // argc, argv[], NULL, envp[], NULL, then (key, value) pairs.
    let mut a = sp + w * (word(sp)? + 2);
    for _ in 0..4096 {
        if word(a)? == 0 {
            break;
        }
        a += w;
    }
    a += w;
    for _ in 0..256 {
        match word(a)? {
            0 => return Err("no AT_RANDOM in the auxv".into()),
            AT_RANDOM => return word(a + w),
            _ => a += 2 * w,
        }
    }
    Err("no end of the auxv".into())
}
