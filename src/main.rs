//! `hemu`: the command line. QEMU-style flags for humans; everything it does
//! goes through the runtime's machine builder, so nothing here names an ISA
//! or a device.

mod machine_cmd;
mod trace_cmd;

use clap::{Parser, Subcommand};
use hemu_runtime::device::CharBackend;
use hemu_runtime::engine::{Engine, ExecCtx, Exit};
use hemu_runtime::linux::{self, Ending};
use hemu_runtime::machine::{boot, list_machines, BuildOptions, Registry};
use hemu_runtime::qmp::{Controller, ListenSpec, Server, Setup};
use hemu_runtime::{Machine, RunResult};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status for bad input (files, flags).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when a guest stops on a trap nobody handles.
const EXIT_GUEST_CRASH: u8 = 3;

/// QEMU flags spelled with one dash that clap knows with two.
const LONG_FLAGS: &[&str] = &[
    "kernel",
    "bios",
    "smp",
    "cpu",
    "nographic",
    "semihosting",
    "serial",
    "machine",
    "accel",
    "dtb",
    "append",
    "qmp",
    "trace",
    "gdb",
    "device",
];

#[derive(Parser, Debug)]
#[command(
    name = "hemu",
    version,
    about = "A heterogeneous, multi-architecture system emulator",
    args_conflicts_with_subcommands = true,
    after_help = "QEMU-style single-dash flags work too: -M virt -kernel prog.elf -m 256M -smp 2"
)]
struct Cli {
    /// Machine: a name (`virt`) or a machine file; `,key=value` sets parameters.
    #[arg(short = 'M', long = "machine", value_name = "MACHINE[,key=value...]")]
    machine: Option<String>,
    /// Kernel image (ELF, or raw at the boot cluster's reset address).
    #[arg(long, value_name = "FILE")]
    kernel: Option<PathBuf>,
    /// Boot PATH on cluster CLUSTER instead of the image its machine file
    /// names (heterogeneous machines: one image per cluster). Repeatable.
    #[arg(long, value_name = "CLUSTER=PATH")]
    image: Vec<String>,
    /// Firmware image (ELF, or raw at the reset address); `none` for no firmware.
    #[arg(long, value_name = "FILE")]
    bios: Option<String>,
    /// RAM size (sets the machine's `-m` parameter), e.g. 256M.
    #[arg(short = 'm', value_name = "SIZE")]
    mem: Option<String>,
    /// Number of vCPUs (sets the machine's `-smp` parameter).
    #[arg(long, value_name = "N")]
    smp: Option<String>,
    /// CPU model (sets the machine's `-cpu` parameter), e.g. cortex-m4.
    #[arg(long, value_name = "NAME")]
    cpu: Option<String>,
    /// Accepted for QEMU compatibility: the frontends that have
    /// semihosting (ARMv7-M) always serve it.
    #[arg(long)]
    semihosting: bool,
    /// No graphics: serial on the terminal (the only mode hemu has).
    #[arg(long)]
    nographic: bool,
    /// Serial backend, in order: stdio, file:PATH, null.
    #[arg(long, value_name = "DEV")]
    serial: Vec<String>,
    /// Device-tree blob to pass instead of the generated one.
    #[arg(long, value_name = "FILE")]
    dtb: Option<PathBuf>,
    /// Kernel command line (`/chosen/bootargs`).
    #[arg(long, value_name = "ARGS")]
    append: Option<String>,
    /// Stop after this many instructions per vCPU.
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,
    /// QMP server: unix:PATH,server[,wait=off] or tcp:HOST:PORT,server[,wait=off].
    /// Without -M, hemu waits with no machine for `machine-create`.
    #[arg(long, value_name = "DEV")]
    qmp: Vec<String>,
    /// Start paused: the vCPUs run after QMP `cont` (or GDB's `continue`).
    #[arg(short = 'S')]
    start_paused: bool,
    /// GDB server: tcp::PORT or tcp:HOST:PORT (port 0: hemu prints the
    /// one it got). Every cluster is a GDB inferior (process).
    #[arg(long, value_name = "DEV")]
    gdb: Option<String>,
    /// Shorthand for -gdb tcp::1234.
    #[arg(short = 's')]
    gdb_default: bool,
    /// Only QEMU's generic loader: loader,file=FILE[,cpu-num=N][,addr=A]
    /// loads FILE (an ELF, or raw at A) into the address space of vCPU N
    /// (counted over every cluster, default 0) and starts that vCPU's
    /// cluster at the ELF's entry: how each cluster gets its image.
    #[arg(long, value_name = "loader,...")]
    device: Vec<String>,
    /// Build the machine with one of its file's profiles (`minimal`, ...).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Execution engine: jit (default where the host has a backend) or
    /// interp (the portable IR interpreter); QEMU's `tcg` means jit.
    #[arg(long, value_name = "ENGINE")]
    accel: Option<String>,
    /// Print the JIT's counters (blocks compiled, translation time, ...)
    /// on stderr when the run ends.
    #[arg(long)]
    stats: bool,
    /// Write one record per retired instruction to FILE (hemu trace
    /// format, docs/trace-format.md): registers changed and disassembly,
    /// or only what the options name. Runs one instruction at a time.
    #[arg(long, value_name = "FILE[,regs|mem|insn]")]
    trace: Option<String>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// List what this hemu knows.
    List {
        /// machines | archs | devices
        what: String,
    },
    /// Look at or validate machine files: `machine show virt [--profile P]`,
    /// `machine check FILE...`.
    Machine {
        #[command(subcommand)]
        action: machine_cmd::MachineCmd,
    },
    /// Run a static Linux program in user mode; its exit status is hemu's.
    Run {
        /// Seed for AT_RANDOM and getrandom (default: host randomness).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Stop after this many instructions.
        #[arg(long, value_name = "N")]
        max_insns: Option<u64>,
        /// Execution engine: jit or interp.
        #[arg(long, value_name = "ENGINE")]
        accel: Option<String>,
        /// Print the JIT's counters (blocks compiled, translation time,
        /// ...) on stderr when the program ends (`cargo xtask bench` reads
        /// them).
        #[arg(long)]
        stats: bool,
        /// Write one record per retired instruction to FILE (hemu trace
        /// format, docs/trace-format.md). Runs one instruction at a time.
        #[arg(long, value_name = "FILE[,regs|mem|insn]")]
        trace: Option<String>,
        /// The program, then its arguments (passed as they are).
        #[arg(
            value_name = "PROG [ARGS]",
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        cmd: Vec<OsString>,
    },
}

fn registry() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

/// Where machine files are looked up by name.
fn machine_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(p) = std::env::var_os("HEMU_MACHINES") {
        dirs.extend(std::env::split_paths(&p));
    }
    dirs.push(PathBuf::from("machines"));
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("machines"));
    dirs
}

fn main() -> ExitCode {
    // `hemu run PROG ARGS...` passes its arguments to the guest untouched
    // (and they need not be UTF-8).
    let user_mode = std::env::args_os().nth(1).is_some_and(|a| a == "run");
    let args: Vec<OsString> = std::env::args_os()
        .enumerate()
        .map(
            |(i, a)| match a.to_str().and_then(|s| s.strip_prefix('-')) {
                Some(rest) if i > 0 && !user_mode && LONG_FLAGS.contains(&rest) => {
                    format!("--{rest}").into()
                }
                _ => a,
            },
        )
        .collect();
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("hemu: {msg}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let reg = registry();
    if let Some(Cmd::List { what }) = &cli.cmd {
        list(&reg, what)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(Cmd::Run {
        seed,
        max_insns,
        accel,
        stats,
        trace,
        cmd,
    }) = &cli.cmd
    {
        let accel = accel.as_deref().or(cli.accel.as_deref());
        let engine = engine_factory(accel, *stats || cli.stats)?;
        if let Some(spec) = trace {
            let spec = trace_cmd::parse(spec)?;
            let opts = linux::Options {
                seed: *seed,
                max_insns: *max_insns,
                engine: engine.map(|f| f()),
            };
            let status = trace_cmd::trace_program(reg.frontends, &spec, cmd, opts, accel)?;
            return Ok(ExitCode::from(status as u8));
        }
        return run_user(&reg, *seed, *max_insns, engine, cmd);
    }
    // QEMU's `-accel tcg,thread=multi` (MTTCG): clusters in parallel host
    // threads; `thread=single` is the deterministic default.
    let (accel, parallel) = split_accel(cli.accel.as_deref())?;
    let engine = engine_factory(accel, cli.stats)?;
    if let Some(Cmd::Machine { action }) = &cli.cmd {
        return machine_cmd::run(&reg, &machine_dirs(), action);
    }
    if (cli.gdb.is_some() || cli.gdb_default) && !cli.qmp.is_empty() {
        return Err("-gdb and -qmp cannot be used together yet".into());
    }
    let server = if cli.qmp.is_empty() {
        None
    } else {
        let specs = cli
            .qmp
            .iter()
            .map(|q| ListenSpec::parse(q))
            .collect::<Result<Vec<_>, _>>()?;
        let server = Server::listen(&specs)?;
        for (spec, addr) in specs.iter().zip(&server.addrs) {
            if matches!(&spec.endpoint, hemu_runtime::qmp::server::Endpoint::Tcp(a) if a.ends_with(":0"))
            {
                eprintln!("hemu: QMP listening on {addr}");
            }
        }
        Some(server)
    };
    let trace = cli.trace.as_deref().map(trace_cmd::parse).transpose()?;
    if trace.is_some() && server.is_some() {
        return Err("--trace and -qmp cannot be used together".into());
    }
    let gdb_spec = match (&cli.gdb, cli.gdb_default) {
        (Some(g), _) => Some(hemu_runtime::gdb::parse_listen(g)?),
        (None, true) => Some("127.0.0.1:1234".to_string()),
        (None, false) => None,
    };
    if trace.is_some() && gdb_spec.is_some() {
        return Err("--trace and -gdb cannot be used together".into());
    }
    if cli.start_paused && server.is_none() && gdb_spec.is_none() {
        return Err("-S needs -qmp or -gdb: nothing else could start the machine".into());
    }
    let serials = serial_backends(&cli.serial)?;
    let Some(mspec) = &cli.machine else {
        let Some(server) = server else {
            return Err("no machine given: use -M <name|file> (see `hemu list machines`)".into());
        };
        if cli.kernel.is_some() || cli.bios.is_some() || cli.dtb.is_some() {
            return Err("-kernel, -bios and -dtb need -M; without it, use QMP load-image".into());
        }
        let mut flags = Vec::new();
        for (flag, val) in [("-m", &cli.mem), ("-smp", &cli.smp), ("-cpu", &cli.cpu)] {
            if let Some(v) = val {
                flags.push((flag.to_string(), v.clone()));
            }
        }
        let mut ctl = Controller::new(
            server,
            Setup {
                registry: reg,
                machine_dirs: machine_dirs(),
                serials,
                flags,
                start_paused: cli.start_paused,
                profile: cli.profile.clone(),
            },
        );
        return Ok(exit_code(ctl.run(None, cli.max_insns)));
    };
    let (name, mut params) = machine_cmd::split_spec(mspec).map_err(|e| format!("-M {e}"))?;
    let src = boot::machine_source(name, &machine_dirs())?;
    // -m, -smp and -cpu set whichever parameters the machine file ties to them.
    let mf = boot::parse(&src)?;
    params.extend(boot::flag_params(
        &mf,
        &[
            ("-m", cli.mem.as_deref()),
            ("-smp", cli.smp.as_deref()),
            ("-cpu", cli.cpu.as_deref()),
        ],
    )?);
    let opts = BuildOptions {
        params,
        serials: serials.clone(),
        engine,
    };
    let mut m = Machine::build_profile(&src, &reg, opts, cli.profile.as_deref())
        .map_err(|e| e.to_string())?;

    let mut loaded = false;
    for spec in &cli.image {
        let (cluster, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--image {spec}: expected CLUSTER=PATH"))?;
        m.set_cluster_image(cluster, Path::new(path))
            .map_err(|e| format!("--image {spec}: {e}"))?;
    }
    if let Some(b) = cli.bios.as_deref().filter(|b| *b != "none") {
        boot::load_image(&mut m, &PathBuf::from(b), true)?;
        loaded = true;
    }
    if let Some(k) = &cli.kernel {
        // With firmware, the firmware's entry stays the start address.
        boot::load_image(&mut m, k, !loaded)?;
        loaded = true;
    }
    // Images the machine file names per cluster (heterogeneous machines);
    // -kernel/-bios replace the boot cluster's.
    if loaded {
        let c = m.boot_cluster();
        m.clusters[c].image = None;
    }
    // QEMU's generic loader: an image for the cluster of vCPU cpu-num
    // (replacing the image the machine file names for that cluster).
    for d in &cli.device {
        generic_loader(&mut m, d)?;
        loaded = true;
    }
    if m.load_file_images()? > 0 {
        loaded = true;
    }
    if !loaded {
        return Err("nothing to run: give -kernel or -bios".into());
    }
    if parallel {
        m.parallel = true;
    }
    let dtb = match &cli.dtb {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    m.place_fdt(dtb, cli.append.clone())?;
    m.place_boot_info()?;
    m.reset();
    if let Some(spec) = &trace {
        let guest = cli.kernel.as_deref();
        let machine = name.to_string();
        return Ok(
            match trace_cmd::trace_machine(
                &mut m,
                spec,
                &machine,
                guest,
                cli.accel.as_deref(),
                cli.max_insns,
            )? {
                Ok(Some(code)) => ExitCode::from(code as u8),
                Ok(None) => exit_code(RunResult::Limit),
                Err(report) => {
                    eprintln!("hemu: {report}");
                    ExitCode::from(EXIT_GUEST_CRASH)
                }
            },
        );
    }
    let result = match server {
        None if gdb_spec.is_some() => {
            let addr = gdb_spec.as_deref().unwrap_or_default();
            let mut gdb = hemu_runtime::gdb::GdbServer::listen(addr)?;
            if addr.ends_with(":0") {
                eprintln!("hemu: gdb listening on {}", gdb.addr);
            }
            gdb.attach(&mut m, cli.start_paused);
            let r = m.run_with(cli.max_insns, &mut |m| gdb.poll(m));
            gdb.finish(&mut m, &r);
            r
        }
        None => m.run(cli.max_insns),
        Some(server) => {
            let mut ctl = Controller::new(
                server,
                Setup {
                    registry: reg,
                    machine_dirs: machine_dirs(),
                    serials,
                    flags: Vec::new(),
                    start_paused: cli.start_paused,
                    profile: None,
                },
            );
            ctl.run(Some(m), cli.max_insns)
        }
    };
    Ok(exit_code(result))
}

/// Split `-accel NAME[,thread=single|multi]` into the engine name and
/// whether clusters run in parallel threads.
fn split_accel(accel: Option<&str>) -> Result<(Option<&str>, bool), String> {
    let Some(a) = accel else {
        return Ok((None, false));
    };
    let mut parts = a.split(',');
    let name = parts.next().filter(|n| !n.is_empty());
    let mut parallel = false;
    for opt in parts {
        parallel = match opt {
            "thread=multi" => true,
            "thread=single" => false,
            _ => {
                return Err(format!(
                    "-accel {a}: unknown option '{opt}' (expected thread=single or thread=multi)"
                ))
            }
        };
    }
    Ok((name, parallel))
}

type EngineFactory = fn() -> Box<dyn Engine>;

/// The JIT, printing its counters on stderr when it is dropped (the end
/// of the run): `--stats`. A wrapper, so the engine needs no knowledge of
/// the command line and runs without it pay nothing.
struct StatsJit(hemu_runtime::jit::Jit);

impl Engine for StatsJit {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn run(&mut self, cx: ExecCtx<'_, '_>, budget: u64) -> Exit {
        self.0.run(cx, budget)
    }
}

impl Drop for StatsJit {
    fn drop(&mut self) {
        // One `key=value` line, for humans and for `cargo xtask bench`.
        let s = self.0.stats;
        eprintln!(
            "hemu: jit stats: compiled={} looped={} interpreted={} linked={} dispatches={} resets={} compile_ns={}",
            s.compiled, s.looped, s.interpreted, s.linked, s.dispatches, s.resets, s.compile_ns
        );
    }
}

/// The engine `--accel` names (None: the default, which `HEMU_ACCEL`
/// may override); with `stats`, a JIT that reports its counters.
fn engine_factory(accel: Option<&str>, stats: bool) -> Result<Option<EngineFactory>, String> {
    if stats {
        let env = std::env::var("HEMU_ACCEL").ok().filter(|s| !s.is_empty());
        let name = accel.map(str::to_string).or(env).unwrap_or("jit".into());
        if matches!(name.as_str(), "jit" | "tcg") {
            match hemu_runtime::jit::Jit::new() {
                Ok(_) => {
                    return Ok(Some(|| {
                        Box::new(StatsJit(
                            hemu_runtime::jit::Jit::new()
                                .expect("checked when the flag was parsed"),
                        ))
                    }))
                }
                // An explicit `--accel jit` fails below with the reason.
                Err(e) if accel.is_none() => {
                    eprintln!("hemu: --stats: no JIT ({e}); the interpreter keeps no statistics")
                }
                Err(_) => {}
            }
        } else {
            eprintln!("hemu: --stats: the {name} engine keeps no statistics");
        }
    }
    match accel {
        None => Ok(None),
        Some("jit" | "tcg") => {
            hemu_runtime::jit::make_engine("jit").map_err(|e| format!("-accel jit: {e}"))?;
            Ok(Some(|| {
                hemu_runtime::jit::make_engine("jit").expect("checked when the flag was parsed")
            }))
        }
        Some("interp" | "tci") => Ok(Some(|| Box::new(hemu_runtime::engine::Interpreter::new()))),
        Some(other) => Err(format!(
            "-accel {other}: unknown accelerator (expected jit or interp)"
        )),
    }
}

/// QEMU's generic loader, `-device loader,file=FILE[,cpu-num=N][,addr=A]`:
/// FILE into the address space of vCPU N (numbered over every cluster in
/// machine-file order), whose cluster then starts at the ELF's entry (or
/// at A for a raw image).
fn generic_loader(m: &mut Machine, spec: &str) -> Result<(), String> {
    let mut parts = spec.split(',');
    if parts.next() != Some("loader") {
        return Err(format!(
            "-device {spec}: only the generic loader (-device loader,file=...) is supported"
        ));
    }
    let (mut file, mut cpu, mut addr) = (None, 0u64, None);
    for kv in parts {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("-device {spec}: expected key=value, not '{kv}'"))?;
        let num = |v: &str| {
            let r = match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => v.parse(),
            };
            r.map_err(|_| format!("-device {spec}: bad number '{v}'"))
        };
        match k {
            "file" => file = Some(PathBuf::from(v)),
            "cpu-num" => cpu = num(v)?,
            "addr" => addr = Some(num(v)?),
            _ => return Err(format!("-device {spec}: unknown loader property '{k}'")),
        }
    }
    let file = file.ok_or_else(|| format!("-device {spec}: give file="))?;
    let mut left = cpu;
    let c = m
        .clusters
        .iter()
        .position(|cl| {
            let n = cl.cpus.len() as u64;
            if left < n {
                true
            } else {
                left -= n;
                false
            }
        })
        .ok_or_else(|| format!("-device {spec}: no vCPU {cpu}"))?;
    let data = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let what = |e: hemu_runtime::loader::LoadError| format!("{}: {e}", file.display());
    let entry = match addr {
        Some(a) => {
            hemu_runtime::loader::load_raw(&mut m.bus(c), a, &data).map_err(what)?;
            a
        }
        None => {
            hemu_runtime::loader::load_elf(&mut m.bus(c), &data)
                .map_err(what)?
                .entry
        }
    };
    m.clusters[c].boot.entry = entry;
    m.clusters[c].image = None;
    Ok(())
}

/// hemu's exit status for how a run ended.
fn exit_code(r: RunResult) -> ExitCode {
    match r {
        RunResult::Shutdown(code) => ExitCode::from(code as u8),
        RunResult::Crashed { cpu, report } => {
            eprintln!("hemu: {cpu}: {report}");
            ExitCode::from(EXIT_GUEST_CRASH)
        }
        RunResult::Limit => {
            eprintln!("hemu: instruction limit reached");
            ExitCode::from(EXIT_GUEST_CRASH)
        }
        RunResult::Idle => {
            eprintln!("hemu: every vCPU waits for an interrupt that nothing will raise");
            ExitCode::from(EXIT_GUEST_CRASH)
        }
    }
}

/// `hemu run`: Linux user mode. The frontend is whichever one says it runs
/// the program's ELF machine, word size and byte order.
fn run_user(
    reg: &Registry,
    seed: Option<u64>,
    max_insns: Option<u64>,
    engine: Option<EngineFactory>,
    cmd: &[OsString],
) -> Result<ExitCode, String> {
    let (prog, args) = cmd.split_first().ok_or("run: no program given")?;
    let opts = linux::Options {
        seed,
        max_insns,
        engine: engine.map(|f| f()),
    };
    let end = linux::run_program(reg.frontends, Path::new(prog), args, opts)?;
    Ok(match end {
        Ending::Limit => {
            eprintln!("hemu: instruction limit reached");
            ExitCode::from(EXIT_GUEST_CRASH)
        }
        Ending::Signaled {
            report: Some(ref r),
            ..
        } => {
            eprintln!("hemu: {r}");
            ExitCode::from(end.status() as u8)
        }
        _ => ExitCode::from(end.status() as u8),
    })
}

fn serial_backends(specs: &[String]) -> Result<Vec<CharBackend>, String> {
    if specs.is_empty() {
        return Ok(vec![CharBackend::stdio()]);
    }
    specs
        .iter()
        .map(|s| match s.as_str() {
            "stdio" | "mon:stdio" => Ok(CharBackend::stdio()),
            "null" | "none" => Ok(CharBackend::null()),
            _ => match s.strip_prefix("file:") {
                Some(p) => std::fs::File::create(p)
                    .map(|f| CharBackend::new(Box::new(f)))
                    .map_err(|e| format!("-serial {s}: {e}")),
                None => Err(format!("-serial {s}: expected stdio, file:PATH or null")),
            },
        })
        .collect()
}

fn list(reg: &Registry, what: &str) -> Result<(), String> {
    match what {
        "machines" => {
            for (name, desc) in list_machines(&machine_dirs()) {
                println!("{name:<16} {desc}");
            }
        }
        "archs" => {
            for f in reg.frontends {
                let params: Vec<String> = f
                    .params()
                    .iter()
                    .map(|p| format!("{}={} (default {})", p.name, p.values.join("|"), p.default))
                    .collect();
                println!(
                    "{:<10} {}; {}",
                    f.name(),
                    f.description(),
                    params.join(", ")
                );
            }
        }
        "devices" => {
            for d in reg.device_types() {
                println!("{:<14} {}", d.name, d.description);
                for p in d.props {
                    let def = p.default.map(|d| format!(" = {d}")).unwrap_or_default();
                    println!("    {:<12} {}{def}: {}", p.name, p.ty, p.doc);
                }
            }
        }
        _ => return Err(format!("list {what}: expected machines, archs or devices")),
    }
    Ok(())
}
