//! RISC-V F and D conformance: hemu's results and fflags must equal QEMU's
//! bit for bit.
//!
//! `tests/guests/riscv-user/bin/fptest.elf` (source `fptest.c` beside it,
//! built by `cargo xtask guests`) runs every F and D instruction on
//! generated operand sets under all five static rounding modes and the
//! dynamic one (frm = 0..4), and prints one line per (instruction, rounding
//! mode) with the case count and a hash of every (result, fflags) pair,
//! then fcsr and load/store checks.
//!
//! - `results_and_flags_match_qemu`: `hemu run fptest.elf` must print
//!   exactly `tests/guests/riscv-user/fptest.expected` (recorded under
//!   `qemu-riscv64` by `cargo xtask traces`) and, when `qemu-riscv64` is
//!   installed, exactly what QEMU prints now. On a mismatch the test re-runs
//!   the program under both with the failing instruction's name (one line
//!   per case) and prints the first differing cases: operands, and hemu's
//!   and QEMU's result bits and flags.
//! - `inexact_accrued_matches_the_interpreter_and_qemu`: `fptest.elf nx`,
//!   the same cases with fflags = NX beforehand (the JIT's host-FPU path),
//!   printed alike by the JIT, the interpreter and QEMU when installed.
//! - `reserved_rounding_modes_are_sigill`: `fptest.elf sigill N` executes
//!   an instruction with a reserved static rm (5, 6), a dynamic rm while frm
//!   holds 5..7, or a reserved encoding (after checking that static modes
//!   and rm-less instructions work with that frm). hemu must die like a
//!   host SIGILL (status 132, one "illegal instruction" line naming the pc
//!   the program printed), and QEMU, when installed, must die of SIGILL
//!   after printing the same.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The probe, relative to the workspace root (where the tests run).
const ELF: &str = "tests/guests/riscv-user/bin/fptest.elf";
/// QEMU's recorded output.
const EXPECTED: &str = "tests/guests/riscv-user/fptest.expected";
/// QEMU's Linux user-mode emulator.
const QEMU: &str = "qemu-riscv64";
/// Generous: a debug build interprets much more slowly than a release one.
const TIMEOUT: Duration = Duration::from_secs(900);
/// Differing (instruction, rounding mode) lines diagnosed case by case.
const DIAGNOSED_LINES: usize = 4;
/// Differing cases printed per diagnosed line.
const SHOWN_CASES: usize = 12;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug)]
struct Outcome {
    status: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `program args...` in `dir` with stdin empty, killing it after
/// [`TIMEOUT`].
fn run_in(dir: &Path, program: &Path, args: &[&str]) -> Outcome {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait().expect("wait for the child") {
            Some(s) => break s,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} {} did not exit within {}s (killed)",
                    program.display(),
                    args.join(" "),
                    TIMEOUT.as_secs()
                );
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Outcome {
        status: status.code(),
        signal: status.signal(),
        stdout: text(out_thread.join().unwrap_or_default()),
        stderr: text(err_thread.join().unwrap_or_default()),
    }
}

/// `hemu run fptest.elf args...`.
fn hemu(args: &[&str]) -> Outcome {
    let mut all = vec!["run", ELF];
    all.extend_from_slice(args);
    run_in(root(), Path::new(env!("CARGO_BIN_EXE_hemu")), &all)
}

/// A scratch folder for QEMU runs that die of a signal (QEMU may write a
/// core file into its working directory).
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hemu-fp-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

/// `qemu-riscv64 fptest.elf args...` in `dir`, if QEMU is installed.
fn qemu_in(dir: &Path, args: &[&str]) -> Option<Outcome> {
    let installed = Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return None;
    }
    let elf = root().join(ELF);
    let mut all = vec![elf.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    Some(run_in(dir, Path::new(QEMU), &all))
}

fn qemu(args: &[&str]) -> Option<Outcome> {
    qemu_in(root(), args)
}

/// The output's lines by key: "<insn> <mode>" for the hash lines, the first
/// word for the others (`csr`, `ldst`, `total`); `#` lines are comments.
fn lines(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split(' ').collect();
        let key_words = if words.len() == 4 && words[2].starts_with("n=") {
            2
        } else {
            1
        };
        let key = words[..key_words].join(" ");
        let old = map.insert(key.clone(), words[key_words..].join(" "));
        assert!(old.is_none(), "duplicate output line {key:?}");
    }
    map
}

/// The keys whose lines differ, with both sides (None: missing).
fn differences(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| (k.clone(), a.get(k).cloned(), b.get(k).cloned()))
        .collect()
}

fn show(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(missing)")
}

/// Re-runs one (instruction, mode) under hemu and QEMU, one line per case,
/// and describes the first differing cases.
fn diagnose(key: &str) -> String {
    let args: Vec<&str> = key.split(' ').collect();
    if args.len() != 2 {
        return String::new();
    }
    let h = hemu(&args);
    let Some(q) = qemu(&args) else {
        return format!("  ({key}: install qemu-user to see the differing cases)\n");
    };
    let (hl, ql): (Vec<&str>, Vec<&str>) = (h.stdout.lines().collect(), q.stdout.lines().collect());
    let mut out = format!(
        "first differing cases of {key} ({} cases; `hemu run {ELF} {key}` prints them all; \
         operands -> result fflags, 64-bit register values in hex):\n",
        ql.len()
    );
    let mut shown = 0;
    for i in 0..hl.len().max(ql.len()) {
        let (a, b) = (hl.get(i).copied(), ql.get(i).copied());
        if a == b {
            continue;
        }
        match (
            a.and_then(|a| a.split_once(" -> ")),
            b.and_then(|b| b.split_once(" -> ")),
        ) {
            (Some((ops_h, res_h)), Some((ops_q, res_q))) if ops_h == ops_q => {
                out += &format!("  {ops_h} -> hemu {res_h} | qemu {res_q}\n");
            }
            _ => {
                out += &format!(
                    "  line {}: hemu {:?} | qemu {:?}\n",
                    i + 1,
                    a.unwrap_or("(missing)"),
                    b.unwrap_or("(missing)")
                );
            }
        }
        shown += 1;
        if shown == SHOWN_CASES {
            out += "  ...\n";
            break;
        }
    }
    if shown == 0 {
        out += &format!(
            "  (no case differs when run alone: hemu status {:?}, stderr {:?})\n",
            h.status, h.stderr
        );
    }
    out
}

#[test]
fn results_and_flags_match_qemu() {
    let started = Instant::now();
    let expected_text = std::fs::read_to_string(root().join(EXPECTED))
        .unwrap_or_else(|e| panic!("cannot read {EXPECTED}: {e} (run `cargo xtask traces`)"));
    let h = hemu(&[]);
    let hemu_secs = started.elapsed().as_secs_f64();
    let q = qemu(&[]);

    let got = lines(&h.stdout);
    let expected = lines(&expected_text);
    let mut report = String::new();
    let mut failing = Vec::new();
    if h.status != Some(0) || !h.stderr.is_empty() {
        report += &format!(
            "hemu run {ELF}: status {:?}, stderr:\n{}\n",
            h.status, h.stderr
        );
    }
    let vs_recorded = differences(&got, &expected);
    if !vs_recorded.is_empty() {
        report += &format!(
            "hemu differs from {EXPECTED} (QEMU, recorded) in {} of {} lines:\n",
            vs_recorded.len(),
            expected.len()
        );
        for (key, a, b) in &vs_recorded {
            report += &format!("  {key}: hemu {} | qemu {}\n", show(a), show(b));
            failing.push(key.clone());
        }
    }
    match &q {
        None => println!("SKIPPED: live comparison with {QEMU} (install qemu-user)"),
        Some(q) => {
            assert_eq!(q.status, Some(0), "{QEMU} {ELF}: {q:?}");
            let live = lines(&q.stdout);
            let stale = differences(&live, &expected);
            if !stale.is_empty() {
                report += &format!(
                    "{QEMU} now differs from {EXPECTED} in {} lines (another QEMU version, \
                     or a changed fptest: re-record with `cargo xtask traces`):\n",
                    stale.len()
                );
                for (key, a, b) in stale.iter().take(20) {
                    report += &format!("  {key}: qemu now {} | recorded {}\n", show(a), show(b));
                }
            }
            let vs_live = differences(&got, &live);
            if stale.is_empty() && !vs_live.is_empty() {
                report += &format!("({QEMU} run now prints the same as recorded.)\n");
            } else if !vs_live.is_empty() {
                report += &format!(
                    "hemu differs from {QEMU} (live) in {} lines:\n",
                    vs_live.len()
                );
                for (key, a, b) in &vs_live {
                    report += &format!("  {key}: hemu {} | qemu {}\n", show(a), show(b));
                    failing.push(key.clone());
                }
            }
        }
    }
    failing.sort();
    failing.dedup();
    // Diagnose different instructions first, then more modes of the same.
    let insn = |k: &String| k.split(' ').next().unwrap_or("").to_string();
    let mut seen = std::collections::BTreeSet::new();
    let (first, rest): (Vec<&String>, Vec<&String>) =
        failing.iter().partition(|k| seen.insert(insn(k)));
    let chosen: Vec<&String> = first
        .into_iter()
        .chain(rest)
        .take(DIAGNOSED_LINES)
        .collect();
    for key in &chosen {
        report += &diagnose(key);
    }
    if failing.len() > chosen.len() {
        report += &format!(
            "({} more differing lines not diagnosed)\n",
            failing.len() - chosen.len()
        );
    }
    assert!(report.is_empty(), "\n{report}");
    println!(
        "{} lines, {} (hemu {hemu_secs:.1}s)",
        expected.len(),
        expected
            .get("total")
            .map(String::as_str)
            .unwrap_or("(no total)")
    );
}

/// `fptest nx`: every case again with inexact already accrued, as in real
/// code, where hemu's JIT computes binary64 + - * / sqrt and comparisons
/// on the host FPU when the result cannot differ, and calls the softfloat
/// helpers otherwise (the default run clears fflags, so it never takes
/// that path). The JIT must print exactly what the interpreter (helpers
/// only) prints, and what QEMU prints when it is installed.
#[test]
fn inexact_accrued_matches_the_interpreter_and_qemu() {
    let run = |accel: &str| {
        let args = ["run", "--accel", accel, ELF, "nx"];
        run_in(root(), Path::new(env!("CARGO_BIN_EXE_hemu")), &args)
    };
    let (jit, interp) = (run("jit"), run("interp"));
    for (name, o) in [("jit", &jit), ("interp", &interp)] {
        assert!(
            o.status == Some(0) && o.stderr.is_empty(),
            "hemu run --accel {name} {ELF} nx: {o:?}"
        );
    }
    let (j, i) = (lines(&jit.stdout), lines(&interp.stdout));
    assert!(j.len() > 400, "too few lines: {}", jit.stdout);
    let d = differences(&j, &i);
    assert!(
        d.is_empty(),
        "fflags = NX: the JIT differs from the interpreter: {d:#?}"
    );
    match qemu(&["nx"]) {
        None => println!("SKIPPED: comparison with {QEMU} (install qemu-user)"),
        Some(q) => {
            assert_eq!(q.status, Some(0), "{QEMU} {ELF} nx: {q:?}");
            let d = differences(&j, &lines(&q.stdout));
            assert!(
                d.is_empty(),
                "fflags = NX: hemu differs from {QEMU}: {d:#?}"
            );
        }
    }
}

/// The pc the program printed (`pc=0x...`) before executing its illegal
/// instruction.
fn printed_pc(stdout: &str) -> Option<u64> {
    let hex = stdout.lines().find_map(|l| l.strip_prefix("pc=0x"))?;
    u64::from_str_radix(hex, 16).ok()
}

#[test]
fn reserved_rounding_modes_are_sigill() {
    let dir = scratch();
    let mut report = String::new();
    let mut n = 0;
    loop {
        let arg = n.to_string();
        let args = ["sigill", arg.as_str()];
        let h = hemu(&args);
        let q = qemu_in(&dir, &args);
        if h.stdout.starts_with("sigill: ") {
            // Past the last case: both say how many there are.
            assert_eq!(h.status, Some(0), "{h:?}");
            assert_eq!(h.stdout, format!("sigill: {n} cases\n"));
            if let Some(q) = q {
                assert_eq!(q.stdout, h.stdout, "{QEMU} disagrees on the case count");
            }
            break;
        }
        assert!(n < 100, "no end to the SIGILL cases: {h:?}");
        let what = h.stdout.lines().next().unwrap_or("").to_string();
        let hemu_ok = match printed_pc(&h.stdout) {
            None => {
                report += &format!("{what}: hemu did not reach the instruction: {h:?}\n");
                false
            }
            Some(pc) => {
                let want = format!("hemu: guest fault: illegal instruction at pc={pc:#x}");
                let ok = h.status == Some(132)
                    && h.stderr.starts_with(&want)
                    && h.stderr.lines().count() == 1;
                if !ok {
                    report += &format!(
                        "{what}: hemu: expected status 132 and '{want}...', got status {:?}, \
                         stdout {:?}, stderr {:?}\n",
                        h.status, h.stdout, h.stderr
                    );
                }
                ok
            }
        };
        if let Some(q) = q {
            if q.signal != Some(4) {
                report += &format!(
                    "{what}: {QEMU} did not die of SIGILL: status {:?}, signal {:?}, \
                     stdout {:?}, stderr {:?}\n",
                    q.status, q.signal, q.stdout, q.stderr
                );
            } else if hemu_ok && q.stdout != h.stdout {
                report += &format!(
                    "{what}: stdout differs before the SIGILL: hemu {:?} | qemu {:?}\n",
                    h.stdout, q.stdout
                );
            }
        }
        n += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(report.is_empty(), "\n{report}");
    println!("{n} SIGILL cases");
}
