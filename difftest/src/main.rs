//! `hemu-difftest`: the command behind `cargo xtask difftest`.
//!
//! - `compare REF.jsonl CAND.jsonl [--context N]`: the first divergence
//!   between two trace files (exit 1), or how far they agree;
//! - `guests [--dir DIR] [NAME...]`: hemu against every checked-in QEMU
//!   trace (`tests/traces/*.jsonl`, or those in DIR), agreement per guest
//!   and ISA;
//! - `random [--target T,...] [--seed S] [--count N] [--insns M]
//!   [--save DIR] [--no-exclusions]`: random programs in hemu and in QEMU (skipped when
//!   QEMU is not installed); a divergence is minimised and, with
//!   `--save`, written as a regression test.

use hemu_difftest::random::{self, Generator};
use hemu_difftest::random_armv7m;
use hemu_difftest::replay::{self, Allowlist};
use hemu_difftest::{compare, Trace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("difftest lives in the workspace")
        .to_path_buf()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("compare") => cmd_compare(&args[1..]),
        Some("guests") => cmd_guests(&args[1..]),
        Some("random") => cmd_random(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("hemu-difftest: {e}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: hemu-difftest compare REF.jsonl CAND.jsonl [--context N]\n\
       hemu-difftest guests [--dir DIR] [NAME...]\n\
       hemu-difftest random [--target riscv64,riscv32,mips,mipsel] [--seed S] \
[--count N] [--insns M] [--save DIR] [--no-exclusions]";

fn opt<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn num(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match opt(args, name) {
        Some(v) => v.parse().map_err(|_| format!("{name} {v}: not a number")),
        None => Ok(default),
    }
}

fn cmd_compare(args: &[String]) -> Result<bool, String> {
    let files: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--context"))
        .map(|(_, a)| a)
        .collect();
    let [a, b] = files[..] else {
        return Err(USAGE.into());
    };
    let (r, c) = (Trace::load(Path::new(a))?, Trace::load(Path::new(b))?);
    let mut rules = replay::rules_for(&r, &c, Vec::new());
    rules.context = num(args, "--context", 8)? as usize;
    rules.labels = (a.clone(), b.clone());
    match compare(&r, &c, &rules) {
        Ok(s) => {
            println!(
                "agree: {} instructions, {} comparison points; matched by a rule: {:?}",
                s.steps, s.checkpoints, s.allowed
            );
            Ok(true)
        }
        Err(d) => {
            println!("first divergence: {d}");
            Ok(false)
        }
    }
}

/// The group a trace belongs to in the summary.
fn group(t: &Trace) -> String {
    match t.header.arch.as_str() {
        "riscv" => format!("riscv{}", t.header.params.get("xlen").map_or("?", |s| s)),
        "mips" if t.header.params.get("endian").map(String::as_str) == Some("little") => {
            "mipsel".into()
        }
        "armv7m" => "cortex-m".into(),
        a => a.into(),
    }
}

fn cmd_guests(args: &[String]) -> Result<bool, String> {
    let root = root();
    let allow = Allowlist::load(&root.join("tests/traces/allowlist.json"))?;
    // `--dir D`: reference traces recorded elsewhere (live QEMU runs).
    let dir = opt(args, "--dir").map_or_else(|| root.join("tests/traces"), PathBuf::from);
    let names: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--dir"))
        .map(|(_, a)| a.clone())
        .collect();
    let source = if dir == root.join("tests/traces") {
        "checked-in traces".to_string()
    } else {
        format!("traces recorded now in {}", dir.display())
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut per: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut all_ok = true;
    for f in files {
        let name = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        if !names.is_empty() && !names.contains(&name) {
            continue;
        }
        let t = Trace::load(&f)?;
        let g = per.entry(group(&t)).or_default();
        g.0 += 1;
        match replay::difftest(&t, &root, &allow.for_guest(&name), None) {
            Ok(s) => {
                g.1 += 1;
                g.2 += s.steps;
                let rules: Vec<String> =
                    s.allowed.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                println!(
                    "agree     {name:<22} {:>6} instructions{}",
                    s.steps,
                    if rules.is_empty() {
                        String::new()
                    } else {
                        format!("  (by rule: {})", rules.join(", "))
                    }
                );
            }
            Err(e) => {
                all_ok = false;
                println!("DIVERGE   {name:<22} {e}");
            }
        }
    }
    println!("\nhemu against QEMU ({source}):");
    for (g, (n, ok, steps)) in &per {
        println!("  {g:<10} {ok}/{n} guests agree, {steps} instructions");
    }
    Ok(all_ok)
}

fn cmd_random(args: &[String]) -> Result<bool, String> {
    let root = root();
    let targets: Vec<&str> = opt(args, "--target")
        .unwrap_or("riscv64,riscv32,mips,mipsel,armv7m")
        .split(',')
        .collect();
    let seed = num(args, "--seed", 1)?;
    let count = num(args, "--count", 3)?;
    let insns = num(args, "--insns", 1000)? as usize;
    let save = opt(args, "--save").map(PathBuf::from);
    let excl = random::Exclusions::load(&root.join(random::EXCLUSIONS))?;
    let mut ok = true;
    for name in targets {
        if name == random_armv7m::TARGET {
            ok &= random_armv7m_cmd(args, seed, count, insns, &excl)?;
            continue;
        }
        let t = random::target(name).ok_or(format!("--target {name}: unknown"))?;
        if !hemu_difftest::qemu::have(t.qemu) {
            println!("SKIP {name}: {} is not installed", t.qemu);
            continue;
        }
        // `--no-exclusions` draws the excluded instructions too (to
        // reproduce a known divergence).
        let excluded = if args.iter().any(|a| a == "--no-exclusions") {
            Vec::new()
        } else {
            excl.for_target(name)
        };
        let g = Generator::new(&root, t, &excluded)?;
        let mut total = 0;
        for k in 0..count {
            let s = seed.wrapping_add(k);
            let p = g.program(s, insns);
            match random::run(&g, &p, &root)? {
                Ok(n) => total += n,
                Err(report) => {
                    ok = false;
                    println!("DIVERGE {name} seed {s}:\n{report}");
                    let small = random::minimise(&p, 400, |c| {
                        matches!(random::run(&g, c, &root), Ok(Err(_)))
                    });
                    println!(
                        "minimised to {} instructions:\n{}",
                        small.len(),
                        random::run(&g, &small, &root)?.err().unwrap_or_default()
                    );
                    if let Some(dir) = &save {
                        let file = random::save(&g, &small, dir, &root)?;
                        println!("saved {}", file.display());
                    }
                }
            }
        }
        println!(
            "{name}: {count} programs from seed {seed}, {total} instructions agree with {} ({} instructions drawn from the spec)",
            t.qemu,
            g.names().len()
        );
    }
    Ok(ok)
}

/// `random --target armv7m`: Cortex-M programs against `qemu-system-arm`
/// (system mode; see `difftest/src/random_armv7m.rs`).
fn random_armv7m_cmd(
    args: &[String],
    seed: u64,
    count: u64,
    insns: usize,
    excl: &random::Exclusions,
) -> Result<bool, String> {
    use hemu_difftest::random_armv7m as arm;
    let root = root();
    if !hemu_difftest::qemu::have(arm::QEMU) {
        println!("SKIP {}: {} is not installed", arm::TARGET, arm::QEMU);
        return Ok(true);
    }
    let excluded = if args.iter().any(|a| a == "--no-exclusions") {
        Vec::new()
    } else {
        excl.for_target(arm::TARGET)
    };
    let g = arm::Generator::new(&root, &excluded)?;
    let (mut ok, mut total) = (true, 0);
    for k in 0..count {
        let s = seed.wrapping_add(k);
        let p = g.program(s, insns);
        match arm::run(&g, &p, &root)? {
            Ok(n) => total += n,
            Err(report) => {
                ok = false;
                println!("DIVERGE {} seed {s}:\n{report}", arm::TARGET);
                let small =
                    random::minimise(&p, 400, |c| matches!(arm::run(&g, c, &root), Ok(Err(_))));
                println!(
                    "minimised to {} instructions:\n{}\n{}",
                    small.len(),
                    small.to_json(),
                    arm::run(&g, &small, &root)?.err().unwrap_or_default()
                );
            }
        }
    }
    println!(
        "{}: {count} programs from seed {seed}, {total} instructions agree with {} -M {} -cpu {} ({} instructions drawn from the spec)",
        arm::TARGET,
        arm::QEMU,
        arm::MACHINE,
        arm::CPU,
        g.names().len()
    );
    Ok(ok)
}
