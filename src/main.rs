//! `hemu`: the command line. QEMU-style flags for humans; everything it does
//! goes through the runtime's machine builder, so nothing here names an ISA
//! or a device.

use clap::{Parser, Subcommand};
use hemu_runtime::device::CharBackend;
use hemu_runtime::linux::{self, Ending};
use hemu_runtime::loader;
use hemu_runtime::machine::{find_machine, list_machines, BuildOptions, Registry};
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
    "nographic",
    "serial",
    "machine",
    "accel",
    "dtb",
    "append",
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
    /// Firmware image (ELF, or raw at the reset address); `none` for no firmware.
    #[arg(long, value_name = "FILE")]
    bios: Option<String>,
    /// RAM size (sets the machine's `-m` parameter), e.g. 256M.
    #[arg(short = 'm', value_name = "SIZE")]
    mem: Option<String>,
    /// Number of vCPUs (sets the machine's `-smp` parameter).
    #[arg(long, value_name = "N")]
    smp: Option<String>,
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
    /// Run a static Linux program in user mode; its exit status is hemu's.
    Run {
        /// Seed for AT_RANDOM and getrandom (default: host randomness).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Stop after this many instructions.
        #[arg(long, value_name = "N")]
        max_insns: Option<u64>,
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
        cmd,
    }) = &cli.cmd
    {
        return run_user(&reg, *seed, *max_insns, cmd);
    }
    let Some(mspec) = &cli.machine else {
        return Err("no machine given: use -M <name|file> (see `hemu list machines`)".into());
    };
    let mut parts = mspec.split(',');
    let name = parts.next().unwrap_or_default();
    let mut params = Vec::new();
    for kv in parts {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("-M {mspec}: '{kv}' is not key=value"))?;
        params.push((k.to_string(), v.to_string()));
    }
    let path = find_machine(name, &machine_dirs()).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let src = hemu_runtime::machine::file::Source {
        file: path.display().to_string(),
        text,
    };
    // -m and -smp set whichever parameters the machine file ties to them.
    let mf = hemu_runtime::machine::file::parse(&src).map_err(|e| e.to_string())?;
    for (flag, val) in [("-m", &cli.mem), ("-smp", &cli.smp)] {
        if let Some(v) = val {
            let p = mf
                .params
                .iter()
                .find(|(_, d)| d.flag.as_deref() == Some(flag))
                .map(|(n, _)| n.clone())
                .ok_or_else(|| format!("machine {} has no parameter for {flag}", mf.name))?;
            params.push((p, v.clone()));
        }
    }
    let serials = serial_backends(&cli.serial)?;
    let opts = BuildOptions {
        params,
        serials,
        engine: None,
    };
    let mut m = Machine::build(&src, &reg, opts).map_err(|e| e.to_string())?;

    let mut loaded = false;
    if let Some(b) = cli.bios.as_deref().filter(|b| *b != "none") {
        load_image(&mut m, &PathBuf::from(b), true)?;
        loaded = true;
    }
    if let Some(k) = &cli.kernel {
        // With firmware, the firmware's entry stays the start address.
        load_image(&mut m, k, !loaded)?;
        loaded = true;
    }
    if !loaded {
        return Err("nothing to run: give -kernel or -bios".into());
    }
    let dtb = match &cli.dtb {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    m.place_fdt(dtb, cli.append.clone())?;
    m.reset();
    Ok(match m.run(cli.max_insns) {
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
    })
}

/// `hemu run`: Linux user mode. The frontend is whichever one says it runs
/// the program's ELF machine, word size and byte order.
fn run_user(
    reg: &Registry,
    seed: Option<u64>,
    max_insns: Option<u64>,
    cmd: &[OsString],
) -> Result<ExitCode, String> {
    let (prog, args) = cmd.split_first().ok_or("run: no program given")?;
    let opts = linux::Options {
        seed,
        max_insns,
        engine: None,
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

fn load_image(m: &mut Machine, path: &PathBuf, entry: bool) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let what = |e: loader::LoadError| format!("{}: {e}", path.display());
    let c = m.boot_cluster();
    if data.starts_with(b"\x7fELF") {
        let boot = m.clusters[c].boot;
        m.load_elf_named(&data, &path.display().to_string())
            .map_err(what)?;
        if !entry {
            m.set_boot(boot);
        }
    } else {
        // Firmware (or a lone kernel) goes at the reset address; a kernel
        // after firmware at the cluster's kernel address, as QEMU does.
        let cl = &m.clusters[c];
        let addr = if entry { cl.boot.entry } else { cl.kernel_addr };
        m.load_raw_named(addr, &data, entry, &path.display().to_string())
            .map_err(what)?;
    }
    Ok(())
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
            for d in reg.devices {
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
