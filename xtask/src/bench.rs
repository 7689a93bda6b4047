//! `cargo xtask bench`: hemu against QEMU, side by side in the same run.
//!
//! The six programs of `tests/guests/bench/` run under `hemu-jit`, QEMU's
//! user mode and `hemu-interp`, alternating (jit, qemu, interp, jit, ...)
//! so that a noisy machine slows all three alike; the tables give median
//! times and ratios, never pass/fail on speed. Every run's output must be
//! the right checksum line: a wrong result fails the bench.
//!
//! - Full runs use each program's default repetition count (the larger
//!   one in `expected.txt`), except the interpreter: at ~40x slower than
//!   the JIT it runs fewer repetitions, enough to take about
//!   `--interp-secs` beyond its startup (found by untimed probe runs), and
//!   its time is extrapolated to the full count (startup from the
//!   one-repetition run, then the cost per repetition).
//! - Short runs (one repetition) show startup and translation latency,
//!   which is what a short program feels.
//! - `hemu run --stats` gives the JIT's translation counters: blocks
//!   compiled and the time spent translating them (guest code to running
//!   host code).
//! - `--criterion [ARGS]` runs the micro-benchmarks (`benches/emu.rs`)
//!   instead.
//!
//! Times are both CPU time (user + system of the process, what it cost;
//! steadier on a shared machine) and wall time.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Guest architectures: name (the folder under `target/guests/bench/`)
/// and QEMU's user-mode emulator for it. An architecture whose programs
/// are not built is reported as skipped; a new ISA is one more row here
/// (and its programs built by `cargo xtask guests`).
const ARCHES: &[(&str, &str)] = &[
    ("riscv64", "qemu-riscv64"),
    ("aarch64", "qemu-aarch64"),
    ("mips", "qemu-mips"),
    ("mipsel", "qemu-mipsel"),
    ("arm", "qemu-arm"),
];

/// The benchmark programs, in table order.
const PROGRAMS: &[&str] = &["sieve", "crc32", "sha256", "matmul", "qsort", "nbody"];

/// Where the programs and their expected output live.
const EXPECTED: &str = "tests/guests/bench/expected.txt";

const USAGE: &str = "usage: cargo xtask bench [--runs N] [--programs P,...] [--arch A,...|all] \
[--no-interp] [--interp-secs S] | --criterion [criterion args]";

const HELP: &str = "  --runs N          rounds per program (default 3); medians are reported
  --programs P,...  some of sieve,crc32,sha256,matmul,qsort,nbody (default all)
  --arch A,...|all  guest architectures (default riscv64); unbuilt ones are skipped
  --no-interp       leave out hemu-interp (the slow column)
  --interp-secs S   hemu-interp runs fewer repetitions, about S seconds' worth
                    beyond its startup (default 3), extrapolated to the full count
  --criterion [..]  run the criterion micro-benchmarks (benches/emu.rs) instead,
                    passing the rest to criterion (e.g. a name filter)";

/// Command-line options.
struct Opts {
    runs: usize,
    programs: Vec<String>,
    arches: Vec<String>,
    interp: bool,
    interp_secs: f64,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        runs: 3,
        programs: PROGRAMS.iter().map(|s| s.to_string()).collect(),
        arches: vec!["riscv64".into()],
        interp: true,
        interp_secs: 3.0,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("{flag} needs a value\n{USAGE}"))
        };
        match flag {
            "--runs" => {
                o.runs = value()?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--runs: expected a positive number\n{USAGE}"))?
            }
            "--programs" => {
                o.programs = value()?.split(',').map(str::to_string).collect();
                if let Some(p) = o.programs.iter().find(|p| !PROGRAMS.contains(&p.as_str())) {
                    return Err(format!(
                        "--programs: unknown program {p} (known: {})",
                        PROGRAMS.join(",")
                    ));
                }
            }
            "--arch" => {
                let v = value()?;
                o.arches = if v == "all" {
                    ARCHES.iter().map(|a| a.0.to_string()).collect()
                } else {
                    v.split(',').map(str::to_string).collect()
                };
                if let Some(a) = o.arches.iter().find(|a| !ARCHES.iter().any(|x| x.0 == *a)) {
                    let known: Vec<&str> = ARCHES.iter().map(|a| a.0).collect();
                    return Err(format!(
                        "--arch: unknown architecture {a} (known: {}, all)",
                        known.join(",")
                    ));
                }
            }
            "--no-interp" => o.interp = false,
            "--interp-secs" => {
                o.interp_secs = value()?
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0)
                    .ok_or(format!(
                        "--interp-secs: expected a positive number\n{USAGE}"
                    ))?
            }
            _ => return Err(format!("unknown option {a}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// `cargo xtask bench ARGS`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    if args.first().is_some_and(|a| a == "--criterion") {
        return criterion(root, &args[1..]);
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}\n{HELP}");
        return Ok(());
    }
    let o = parse(args)?;
    let expected = Expected::load(root)?;
    let hemu = build_hemu(root)?;
    let tck = clock_ticks();
    let mut skipped = Vec::new();
    let mut report = String::new();
    let load_before = load_average();
    for arch in &o.arches {
        let qemu = ARCHES
            .iter()
            .find(|a| a.0 == arch)
            .map(|a| a.1)
            .expect("checked by parse");
        let dir = root.join("target/guests/bench").join(arch);
        if !dir.is_dir() && arch == "riscv64" {
            // The RISC-V programs build in seconds; try before giving up.
            crate::guests::build_bench(root)?;
        }
        if !dir.is_dir() {
            skipped.push(format!(
                "{arch}: no programs in {} (cargo xtask guests builds them)",
                dir.display()
            ));
            continue;
        }
        let qemu = if have(qemu) {
            Some(qemu)
        } else {
            skipped.push(format!("{arch}: {qemu} columns (install qemu-user)"));
            None
        };
        let mut rows = Vec::new();
        for prog in &o.programs {
            let path = dir.join(prog);
            if !path.is_file() {
                skipped.push(format!("{arch}/{prog}: {} not built", path.display()));
                continue;
            }
            let b = Bench {
                hemu: &hemu,
                qemu,
                prog: &path,
                name: prog,
                tck,
            };
            rows.push(b.measure(&o, &expected)?);
        }
        if !rows.is_empty() {
            tables(&mut report, arch, &o, &rows);
        }
    }
    // Other work on the machine skews every column (CPU time least):
    // say how busy it was.
    println!(
        "host: {}; load average {} at the start, {} at the end",
        host_cpu(),
        load_before,
        load_average()
    );
    println!("{report}");
    for s in &skipped {
        println!("SKIPPED: {s}");
    }
    Ok(())
}

/// The host CPU's model and count, from `/proc/cpuinfo`.
fn host_cpu() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|x| x.1))
        .unwrap_or("unknown CPU")
        .trim();
    let n = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {n} CPUs")
}

/// The 1-minute load average, from `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// `cargo xtask bench --criterion ARGS`: the micro-benchmarks.
fn criterion(root: &Path, args: &[String]) -> Result<(), String> {
    let status = Command::new(cargo())
        .args(["bench", "-p", "hemu", "--bench", "emu", "--"])
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("cargo bench failed".into())
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the release `hemu`; returns its path.
fn build_hemu(root: &Path) -> Result<PathBuf, String> {
    eprintln!("bench: building hemu (release)");
    let status = Command::new(cargo())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "hemu",
            "--bin",
            "hemu",
        ])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building hemu failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/hemu"))
}

/// The lines the programs must print, by (program, reps).
struct Expected(HashMap<(String, u32), String>);

impl Expected {
    fn load(root: &Path) -> Result<Expected, String> {
        let path = root.join(EXPECTED);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut m = HashMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut w = line.split_whitespace();
            let (Some(name), Some(reps)) = (w.next(), w.next()) else {
                return Err(format!("{}: bad line {line:?}", path.display()));
            };
            let reps = reps
                .strip_prefix("reps=")
                .and_then(|r| r.parse().ok())
                .ok_or(format!("{}: bad line {line:?}", path.display()))?;
            m.insert((name.to_string(), reps), line.to_string());
        }
        Ok(Expected(m))
    }
    /// The default repetition count of `prog`: the larger one listed.
    fn default_reps(&self, prog: &str) -> Result<u32, String> {
        self.0
            .keys()
            .filter(|(p, _)| p == prog)
            .map(|(_, r)| *r)
            .max()
            .ok_or(format!("{EXPECTED} has no line for {prog}"))
    }
    fn line(&self, prog: &str, reps: u32) -> Option<&str> {
        self.0.get(&(prog.to_string(), reps)).map(String::as_str)
    }
}

/// USER_HZ, the unit of `/proc/self/stat` times (100 on every Linux
/// port that matters; asked anyway).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds (user + system) of this process's waited-for children so
/// far, from `/proc/self/stat` (`cutime`, `cstime`): no `unsafe`
/// `getrusage`, at the price of 10 ms resolution.
fn children_cpu(tck: f64) -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at
    // field 3, so cutime (16) and cstime (17) are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let cutime: f64 = f.get(13)?.parse().ok()?;
    let cstime: f64 = f.get(14)?.parse().ok()?;
    Some((cutime + cstime) / tck)
}

/// One measured run.
struct Sample {
    wall: f64,
    /// `None` where `/proc` cannot say.
    cpu: Option<f64>,
    /// The JIT's counters, when it printed them.
    stats: Option<JitStats>,
}

/// What `hemu run --stats` prints.
#[derive(Clone, Copy, Default)]
struct JitStats {
    compiled: f64,
    interpreted: f64,
    compile_ns: f64,
}

impl JitStats {
    fn parse(stderr: &str) -> Option<JitStats> {
        let line = stderr
            .lines()
            .find_map(|l| l.strip_prefix("hemu: jit stats:"))?;
        let mut s = JitStats::default();
        for kv in line.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            let v: f64 = v.parse().ok()?;
            match k {
                "compiled" => s.compiled = v,
                "interpreted" => s.interpreted = v,
                "compile_ns" => s.compile_ns = v,
                _ => {}
            }
        }
        Some(s)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Engine {
    Jit,
    Qemu,
    Interp,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Jit => "hemu-jit",
            Engine::Qemu => "qemu",
            Engine::Interp => "hemu-interp",
        }
    }
}

/// Median of the samples' values (NaN when there are none).
fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Medians of one engine's runs of one program.
#[derive(Clone, Copy)]
struct Times {
    wall: f64,
    cpu: f64,
    stats: Option<JitStats>,
}

impl Times {
    const NONE: Times = Times {
        wall: f64::NAN,
        cpu: f64::NAN,
        stats: None,
    };
    fn of(samples: &[Sample]) -> Times {
        if samples.is_empty() {
            return Times::NONE;
        }
        let stats: Vec<JitStats> = samples.iter().filter_map(|s| s.stats).collect();
        Times {
            wall: median(samples.iter().map(|s| s.wall).collect()),
            cpu: median(samples.iter().map(|s| s.cpu.unwrap_or(f64::NAN)).collect()),
            stats: (!stats.is_empty()).then(|| JitStats {
                compiled: median(stats.iter().map(|s| s.compiled).collect()),
                interpreted: median(stats.iter().map(|s| s.interpreted).collect()),
                compile_ns: median(stats.iter().map(|s| s.compile_ns).collect()),
            }),
        }
    }
    /// The time of `reps` repetitions, extrapolated linearly from this
    /// run of `r` repetitions and `one`, a run of one: startup once, then
    /// the per-repetition cost (plain scaling would count the startup
    /// `reps / r` times).
    fn extrapolated(self, r: u32, one: Times, reps: u32) -> Times {
        let est = |tr: f64, t1: f64| {
            if r == reps {
                tr
            } else {
                let per = ((tr - t1) / (r - 1) as f64).max(0.0);
                t1 + per * (reps - 1) as f64
            }
        };
        Times {
            wall: est(self.wall, one.wall),
            cpu: est(self.cpu, one.cpu),
            stats: self.stats,
        }
    }
}

/// One program's results.
struct Row {
    name: String,
    reps: u32,
    /// Repetitions the interpreter ran (its times are extrapolated to `reps`).
    interp_reps: u32,
    full: [Times; 3],
    short: [Times; 3],
}

/// One program on one architecture.
struct Bench<'a> {
    hemu: &'a Path,
    qemu: Option<&'a str>,
    prog: &'a Path,
    name: &'a str,
    tck: f64,
}

impl Bench<'_> {
    fn command(&self, e: Engine, reps: u32) -> Command {
        let mut c = match e {
            Engine::Qemu => Command::new(self.qemu.expect("only run with QEMU")),
            Engine::Jit => {
                let mut c = Command::new(self.hemu);
                c.args(["run", "--accel", "jit", "--stats"]);
                c
            }
            Engine::Interp => {
                let mut c = Command::new(self.hemu);
                c.args(["run", "--accel", "interp"]);
                c
            }
        };
        c.arg(self.prog)
            .arg(reps.to_string())
            .env_remove("HEMU_ACCEL")
            .stdin(Stdio::null());
        c
    }

    /// Run under `e` and time it; the last line of output must be `want`.
    fn run(&self, e: Engine, reps: u32, want: &str) -> Result<Sample, String> {
        let mut cmd = self.command(e, reps);
        let c0 = children_cpu(self.tck);
        let t0 = Instant::now();
        let out = cmd
            .output()
            .map_err(|err| format!("{}: cannot run {cmd:?}: {err}", e.name()))?;
        let wall = t0.elapsed().as_secs_f64();
        let c1 = children_cpu(self.tck);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
        if !out.status.success() || last != Some(want) {
            return Err(format!(
                "{} {} {reps}: wrong result ({}): expected {want:?}, got {:?}\nstderr: {}",
                e.name(),
                self.prog.display(),
                out.status,
                last.unwrap_or(""),
                stderr.trim()
            ));
        }
        Ok(Sample {
            wall,
            cpu: c0.zip(c1).map(|(a, b)| b - a),
            stats: JitStats::parse(&stderr),
        })
    }

    /// `runs` rounds of the engines in turn; medians per engine.
    fn rounds(
        &self,
        runs: usize,
        plan: &[(Engine, u32, &str)],
    ) -> Result<HashMap<Engine, Times>, String> {
        let mut samples: HashMap<Engine, Vec<Sample>> = HashMap::new();
        for _ in 0..runs {
            for &(e, reps, want) in plan {
                let s = self.run(e, reps, want)?;
                samples.entry(e).or_default().push(s);
            }
        }
        Ok(samples
            .into_iter()
            .map(|(e, s)| (e, Times::of(&s)))
            .collect())
    }

    /// How many repetitions the interpreter runs: enough that they take
    /// about `secs` beyond its startup (`one`, the time of a
    /// one-repetition run), so the cost per repetition, and with it the
    /// extrapolation, rests on a clearly measurable difference. Untimed
    /// probe runs find that cost: the first as if the one-repetition run
    /// were all repetition, then more while the difference is small (some
    /// programs spend most of a short run on setting up their data).
    fn interp_reps(&self, secs: f64, one: f64, reps: u32) -> Result<u32, String> {
        if reps <= 2 || !one.is_finite() {
            return Ok(reps);
        }
        let mut r = ((secs / one.max(1e-3)).round() as u32).clamp(2, reps);
        loop {
            let extra = self.probe(r)? - one;
            if r == reps {
                return Ok(reps);
            }
            let per = extra.max(1e-4) / (r - 1) as f64;
            let want = (1.0 + secs / per).round().clamp(2.0, reps as f64) as u32;
            if extra >= secs / 2.0 || want <= r {
                return Ok(want);
            }
            r = want.min(r.saturating_mul(16));
        }
    }

    /// CPU seconds (wall seconds where `/proc` cannot say) of one
    /// interpreter run of `reps` repetitions (which must still succeed),
    /// not part of the table.
    fn probe(&self, reps: u32) -> Result<f64, String> {
        eprintln!(
            "bench: {} probing hemu-interp with reps={reps}",
            self.prog.display()
        );
        let c0 = children_cpu(self.tck);
        let t0 = Instant::now();
        let out = self
            .command(Engine::Interp, reps)
            .output()
            .map_err(|e| format!("hemu-interp: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !text.trim_end().ends_with(" OK") {
            return Err(format!(
                "hemu-interp {} {reps}: failed ({}): {text:?}",
                self.prog.display(),
                out.status
            ));
        }
        let wall = t0.elapsed().as_secs_f64();
        Ok(match (c0, children_cpu(self.tck)) {
            (Some(a), Some(b)) => b - a,
            _ => wall,
        })
    }

    fn measure(&self, o: &Opts, expected: &Expected) -> Result<Row, String> {
        let reps = expected.default_reps(self.name)?;
        let one = expected
            .line(self.name, 1)
            .ok_or(format!("{EXPECTED} has no reps=1 line for {}", self.name))?;
        let full_line = expected
            .line(self.name, reps)
            .expect("default_reps found it");
        let mut engines = vec![Engine::Jit];
        engines.extend(self.qemu.map(|_| Engine::Qemu));
        if o.interp {
            engines.push(Engine::Interp);
        }
        eprintln!("bench: {} short runs (reps=1)", self.prog.display());
        let plan: Vec<_> = engines.iter().map(|&e| (e, 1, one)).collect();
        let short = self.rounds(o.runs, &plan)?;

        let interp_reps = match short.get(&Engine::Interp) {
            // CPU time where there is one: steadier than wall time when
            // the machine is busy.
            Some(one) => {
                let t1 = if one.cpu.is_finite() {
                    one.cpu
                } else {
                    one.wall
                };
                self.interp_reps(o.interp_secs, t1, reps)?
            }
            None => reps,
        };
        // Its expected line at that count: listed, or what QEMU (else
        // the JIT) prints, run once untimed.
        let interp_line = match expected.line(self.name, interp_reps) {
            Some(l) => l.to_string(),
            None => {
                let e = if self.qemu.is_some() {
                    Engine::Qemu
                } else {
                    Engine::Jit
                };
                let out = self
                    .command(e, interp_reps)
                    .output()
                    .map_err(|err| format!("{}: {err}", e.name()))?;
                let text = String::from_utf8_lossy(&out.stdout);
                let last = text.lines().rev().find(|l| !l.trim().is_empty());
                match last {
                    Some(l) if out.status.success() && l.ends_with(" OK") => l.to_string(),
                    _ => {
                        return Err(format!(
                            "{} {} {interp_reps}: no reference result ({}): {text:?}",
                            e.name(),
                            self.prog.display(),
                            out.status
                        ))
                    }
                }
            }
        };
        eprintln!(
            "bench: {} full runs (reps={reps}; hemu-interp reps={interp_reps})",
            self.prog.display()
        );
        let plan: Vec<(Engine, u32, &str)> = engines
            .iter()
            .map(|&e| match e {
                Engine::Interp => (e, interp_reps, interp_line.as_str()),
                _ => (e, reps, full_line),
            })
            .collect();
        let full = self.rounds(o.runs, &plan)?;
        let get = |m: &HashMap<Engine, Times>, e| m.get(&e).copied().unwrap_or(Times::NONE);
        Ok(Row {
            name: self.name.to_string(),
            reps,
            interp_reps,
            full: [
                get(&full, Engine::Qemu),
                get(&full, Engine::Jit),
                get(&full, Engine::Interp).extrapolated(
                    interp_reps,
                    get(&short, Engine::Interp),
                    reps,
                ),
            ],
            short: [
                get(&short, Engine::Qemu),
                get(&short, Engine::Jit),
                get(&short, Engine::Interp),
            ],
        })
    }
}

/// A number for a table cell ("-" when unknown).
fn cell(v: f64, prec: usize) -> String {
    if v.is_finite() {
        format!("{v:.prec$}")
    } else {
        "-".into()
    }
}

/// A ratio for a table cell: `0.54x` ("-" when unknown).
fn ratio(v: f64, prec: usize) -> String {
    if v.is_finite() {
        format!("{v:.prec$}x")
    } else {
        "-".into()
    }
}

/// Geometric mean of the finite, positive values.
fn geomean(v: impl Iterator<Item = f64>) -> f64 {
    let logs: Vec<f64> = v
        .filter(|x| x.is_finite() && *x > 0.0)
        .map(f64::ln)
        .collect();
    if logs.is_empty() {
        f64::NAN
    } else {
        (logs.iter().sum::<f64>() / logs.len() as f64).exp()
    }
}

/// The report for one architecture.
fn tables(out: &mut String, arch: &str, o: &Opts, rows: &[Row]) {
    let order = if o.interp {
        "hemu-jit, qemu, hemu-interp"
    } else {
        "hemu-jit, qemu"
    };
    let _ = writeln!(
        out,
        "\n== {arch}: median of {} runs each, alternating {order}\n",
        o.runs
    );
    type Pick = fn(&Times) -> f64;
    let clocks: [(&str, Pick); 2] = [
        ("CPU time (user+sys, s)", |t| t.cpu),
        ("wall time (s)", |t| t.wall),
    ];
    for (title, pick) in clocks {
        let _ = writeln!(out, "{title}");
        let _ = writeln!(
            out,
            "{:<8} {:>6} {:>8} {:>9} {:>12} {:>7} {:>11} {:>11}",
            "program",
            "reps",
            "qemu",
            "hemu-jit",
            "hemu-interp*",
            "i-reps",
            "qemu/jit",
            "interp/jit"
        );
        for r in rows {
            let [q, j, i] = r.full.map(|t| pick(&t));
            let _ = writeln!(
                out,
                "{:<8} {:>6} {:>8} {:>9} {:>12} {:>7} {:>11} {:>11}",
                r.name,
                r.reps,
                cell(q, 3),
                cell(j, 3),
                cell(i, 2),
                if o.interp {
                    r.interp_reps.to_string()
                } else {
                    "-".into()
                },
                ratio(q / j, 2),
                ratio(i / j, 1)
            );
        }
        let speedup = geomean(rows.iter().map(|r| pick(&r.full[0]) / pick(&r.full[1])));
        let slow = geomean(rows.iter().map(|r| pick(&r.full[2]) / pick(&r.full[1])));
        let _ = writeln!(
            out,
            "{:<8} {:>6} {:>8} {:>9} {:>12} {:>7} {:>11} {:>11}\n",
            "geomean",
            "",
            "",
            "",
            "",
            "",
            ratio(speedup, 2),
            ratio(slow, 1)
        );
    }
    let _ = writeln!(
        out,
        "qemu/jit: hemu-jit's speedup over QEMU (above 1: hemu is faster).\n\
         * hemu-interp ran i-reps repetitions (too slow for all of them); its time\n  \
         is extrapolated linearly from those runs and the short runs (reps=1):\n  \
         t(1) + (t(i-reps) - t(1)) * (reps - 1) / (i-reps - 1), medians.\n"
    );

    let _ = writeln!(
        out,
        "Translation latency (hemu-jit, guest block to runnable host code; `hemu run --stats`)"
    );
    let _ = writeln!(
        out,
        "{:<8} {:>7} {:>9} {:>9} {:>9} {:>8}   {:>10} {:>10}",
        "program",
        "blocks",
        "interp'd",
        "total ms",
        "us/block",
        "% of cpu",
        "reps=1: ms",
        "% of wall"
    );
    for r in rows {
        let j = r.full[1];
        let s = j.stats.unwrap_or_default();
        let short = r.short[1].stats.unwrap_or_default();
        let ms = s.compile_ns / 1e6;
        let short_ms = short.compile_ns / 1e6;
        let _ = writeln!(
            out,
            "{:<8} {:>7} {:>9} {:>9} {:>9} {:>7}%   {:>10} {:>9}%",
            r.name,
            s.compiled,
            s.interpreted,
            cell(ms, 1),
            cell(s.compile_ns / 1e3 / s.compiled, 1),
            cell(100.0 * ms / 1e3 / j.cpu, 2),
            cell(short_ms, 1),
            cell(100.0 * short_ms / 1e3 / r.short[1].wall, 1)
        );
    }
    let _ = writeln!(
        out,
        "(blocks: compiled in the full run; us/block: mean translation time;\n \
         % of cpu: share of the full run's CPU time spent translating; reps=1:\n \
         the same for the one-repetition run, against its wall time, as CPU\n \
         time is only counted in 10 ms ticks)\n"
    );

    let _ = writeln!(
        out,
        "Short runs (reps=1: startup and translation dominate), wall time (s)"
    );
    let _ = writeln!(
        out,
        "{:<8} {:>8} {:>9} {:>12} {:>9}",
        "program", "qemu", "hemu-jit", "hemu-interp", "qemu/jit"
    );
    for r in rows {
        let [q, j, i] = r.short.map(|t| t.wall);
        let _ = writeln!(
            out,
            "{:<8} {:>8} {:>9} {:>12} {:>9}",
            r.name,
            cell(q, 3),
            cell(j, 3),
            cell(i, 3),
            ratio(q / j, 2)
        );
    }
    let speedup = geomean(rows.iter().map(|r| r.short[0].wall / r.short[1].wall));
    let _ = writeln!(
        out,
        "{:<8} {:>8} {:>9} {:>12} {:>9}",
        "geomean",
        "",
        "",
        "",
        ratio(speedup, 2)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_geomeans() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
        assert!((geomean([2.0, 8.0].into_iter()) - 4.0).abs() < 1e-12);
        assert!((geomean([2.0, f64::NAN].into_iter()) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn extrapolation_counts_startup_once() {
        let t = |s: f64| Times {
            wall: s,
            cpu: s,
            stats: None,
        };
        // Startup 0.5 s, 0.25 s per repetition.
        let e = t(0.5 + 5.0 * 0.25).extrapolated(5, t(0.75), 100);
        assert!((e.cpu - (0.5 + 100.0 * 0.25)).abs() < 1e-9, "{}", e.cpu);
        assert_eq!(t(3.0).extrapolated(7, t(1.0), 7).wall, 3.0, "all reps ran");
    }

    #[test]
    fn stats_lines_parse() {
        let s = JitStats::parse(
            "x\nhemu: jit stats: compiled=814 interpreted=2 linked=778 dispatches=6177 resets=0 compile_ns=32532358\n",
        )
        .unwrap();
        assert_eq!(
            (s.compiled, s.interpreted, s.compile_ns),
            (814.0, 2.0, 32532358.0)
        );
        assert!(JitStats::parse("hemu: --stats: the interp engine keeps no statistics").is_none());
    }

    #[test]
    fn options() {
        let a = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let o = parse(&a("--runs 5 --programs sieve,crc32 --no-interp --arch=all")).unwrap();
        assert_eq!(o.runs, 5);
        assert_eq!(o.programs, ["sieve", "crc32"]);
        assert!(!o.interp);
        assert_eq!(o.arches.len(), ARCHES.len());
        assert!(parse(&a("--runs 0")).is_err());
        assert!(parse(&a("--programs nope")).is_err());
        assert!(parse(&a("--arch vax")).is_err());
        assert!(parse(&a("--runs")).is_err());
        assert!(parse(&a("--bogus")).is_err());
    }

    #[test]
    fn expected_lines_give_default_reps() {
        let root = crate::root();
        let e = Expected::load(&root).unwrap();
        for p in PROGRAMS {
            assert!(e.default_reps(p).unwrap() > 1, "{p}");
            assert!(e.line(p, 1).unwrap().ends_with(" OK"));
        }
    }
}
