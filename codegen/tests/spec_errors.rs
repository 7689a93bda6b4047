//! Bad specs are rejected with a located, clear message — never a panic.
//!
//! * `fixtures`: every folder under `tests/fixtures/` is a small spec folder
//!   (`isa.yaml` + `ext.yaml`) with exactly one mistake; its `expected.txt`
//!   holds the exact error line `Isa::load` must give (as `Display` prints it,
//!   with the folder named `specs/<case>`), or `ok`. All mismatches are
//!   reported at once.
//! * `mutations_never_panic`: a deterministic mutation fuzzer over the real
//!   `specs/riscv` files; every load must return (not panic), and every error
//!   must carry a line unless the file could not be read.

use hemu_codegen::{Isa, SpecError};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

// ---------------------------------------------------------------------------
// Catching panics quietly, with their location.

thread_local! {
    /// Set while a load runs under `load_caught`: the panic hook stays quiet.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Location of the last panic caught on this thread.
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                PANIC_AT.with(|p| *p.borrow_mut() = at);
            } else {
                prev(info);
            }
        }));
    });
}

/// `Isa::load`, with a panic turned into `Err("panicked at FILE:LINE: msg")`.
fn load_caught(dir: &Path, rel: &str) -> Result<Result<Isa, SpecError>, String> {
    install_hook();
    QUIET.with(|q| q.set(true));
    let r = catch_unwind(AssertUnwindSafe(|| Isa::load(dir, rel)));
    QUIET.with(|q| q.set(false));
    r.map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string payload)".into());
        let at = PANIC_AT.with(|p| p.borrow().clone());
        format!("panicked at {at}: {msg}")
    })
}

// ---------------------------------------------------------------------------
// Fixtures.

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expected.txt").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixtures under {}", root.display());

    let mut failures = Vec::new();
    for dir in &dirs {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected = std::fs::read_to_string(dir.join("expected.txt"))
            .unwrap_or_else(|e| panic!("{case}/expected.txt: {e}"));
        let expected = expected.trim();
        let got = match load_caught(dir, &format!("specs/{case}")) {
            Ok(Ok(_)) => "ok".to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(panic) => format!("PANIC: {panic}"),
        };
        if got != expected {
            failures.push(format!(
                "{case}:\n    expected: {expected}\n    got:      {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} spec fixtures failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Mutation fuzzing of the real RISC-V spec.

/// xorshift64* — tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so neighbouring seeds diverge at once.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Characters a flipped value character becomes: syntax that matters to
/// encodings, semantics and YAML, plus a few odd ones.
const FLIP: &[char] = &[
    '0', '1', '.', '-', '_', ' ', 'x', '9', '{', '}', '(', ')', '[', ']', ';', ':', ',', '"', '\'',
    '|', '&', '!', '<', '>', '=', '+', '*', '/', '%', '^', 'X', 'r', 'd', 's', 'i', 'm', 'P', 'C',
    '#', '\\', '\t', 'é', '\u{0}',
];

/// Apply one random mutation to `text`; returns a description.
fn mutate(rng: &mut Rng, text: &mut String) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let what = match rng.below(14) {
        0 | 1 => {
            let i = rng.below(lines.len());
            lines.remove(i);
            format!("delete line {}", i + 1)
        }
        2 => {
            let i = rng.below(lines.len());
            let l = lines[i].clone();
            lines.insert(i, l);
            format!("duplicate line {}", i + 1)
        }
        3 => {
            // Truncate at a random character boundary.
            let cut: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let at = if cut.is_empty() { 0 } else { *rng.pick(&cut) };
            text.truncate(at);
            return format!("truncate at byte {at}");
        }
        4 => {
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(i, j);
            format!("swap lines {} and {}", i + 1, j + 1)
        }
        5 | 6 => {
            // Replace a number with an extreme one (bit ranges, counts,
            // codes, shifts, lengths, literals in semantics).
            let with: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].bytes().any(|b| b.is_ascii_digit()))
                .collect();
            if with.is_empty() {
                return "no number to replace".into();
            }
            let i = *rng.pick(&with);
            let line = &lines[i];
            let starts: Vec<usize> = line
                .char_indices()
                .filter(|&(k, c)| {
                    c.is_ascii_digit() && (k == 0 || !line.as_bytes()[k - 1].is_ascii_digit())
                })
                .map(|(k, _)| k)
                .collect();
            let at = *rng.pick(&starts);
            let len = line[at..].bytes().take_while(u8::is_ascii_digit).count();
            let to = *rng.pick(&[
                "0",
                "1",
                "7",
                "31",
                "32",
                "33",
                "63",
                "64",
                "65",
                "255",
                "4294967295",
                "4294967296",
                "18446744073709551615",
                "99999999999999999999999",
                "-1",
            ]);
            lines[i].replace_range(at..at + len, to);
            format!("line {}: number at byte {at} -> {to}", i + 1)
        }
        7 => {
            // Swap a word of semantics for another meaningful one.
            let with: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains("sem: \""))
                .collect();
            if with.is_empty() {
                return "no semantics to edit".into();
            }
            let i = *rng.pick(&with);
            let line = &lines[i];
            let start = line.find("sem: \"").unwrap() + 6;
            let end = line[start..].find('"').map_or(line.len(), |e| start + e);
            let words: Vec<(usize, usize)> = line[start..end]
                .char_indices()
                .filter(|&(k, c)| {
                    (c.is_ascii_alphanumeric() || c == '_')
                        && (k == 0 || {
                            let p = line.as_bytes()[start + k - 1];
                            !(p.is_ascii_alphanumeric() || p == b'_')
                        })
                })
                .map(|(k, _)| {
                    let n = line[start + k..]
                        .bytes()
                        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                        .count();
                    (start + k, n)
                })
                .collect();
            if words.is_empty() {
                return "no word to swap".into();
            }
            let (at, n) = *rng.pick(&words);
            let to = *rng.pick(&[
                "rd",
                "rs1",
                "rs2",
                "imm",
                "shamt",
                "X",
                "PC",
                "NEXT_PC",
                "XLEN",
                "signed",
                "unsigned",
                "trunc",
                "sext",
                "zext",
                "load",
                "store",
                "jump",
                "raise",
                "u8",
                "s64",
                "u128",
                "8",
                "32",
                "64",
                "0",
                "true",
                "let",
                "if",
                "else",
                "foo",
                "breakpoint",
                "illegal_instruction",
            ]);
            let from = line[at..at + n].to_string();
            lines[i].replace_range(at..at + n, to);
            format!("line {}: {from} -> {to}", i + 1)
        }
        _ => {
            // Flip a character inside an `enc`, `sem` or `fmt` value (or
            // anywhere, when the file has none of those).
            let key = *rng.pick(&["enc: \"", "sem: \"", "fmt: "]);
            let with: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(key))
                .collect();
            let (i, start) = if with.is_empty() {
                (rng.below(lines.len()), 0)
            } else {
                let i = *rng.pick(&with);
                (i, lines[i].find(key).unwrap() + key.len())
            };
            let line = lines[i].clone();
            // The value runs to the closing quote (or the next ',' for fmt).
            let end = line[start..]
                .find(if key == "fmt: " { ',' } else { '"' })
                .map_or(line.len(), |e| start + e);
            let spots: Vec<usize> = line[start..end]
                .char_indices()
                .map(|(k, _)| start + k)
                .collect();
            let to = *rng.pick(FLIP);
            if spots.is_empty() {
                lines[i].insert(start, to);
                format!("insert {to:?} in line {}", i + 1)
            } else {
                let at = *rng.pick(&spots);
                let old = line[at..].chars().next().unwrap();
                lines[i].replace_range(at..at + old.len_utf8(), &to.to_string());
                format!("line {}: {old:?} -> {to:?} at byte {at}", i + 1)
            }
        }
    };
    *text = lines.concat();
    what
}

/// One worker's scratch spec folder, removed when dropped.
struct TempSpec(PathBuf);

impl Drop for TempSpec {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Mutated loads per run, spread over the available cores (a full load of
/// specs/riscv takes ~20 ms in a debug build; most mutants fail sooner).
/// `HEMU_SPEC_FUZZ=<n>` runs more.
const ITERATIONS: usize = 2500;

#[test]
fn mutations_never_panic() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/riscv");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            (name, text)
        })
        .collect();
    files.sort();
    assert!(files.iter().any(|(n, _)| n == "isa.yaml"));

    let base = std::env::temp_dir().join(format!(
        "hemu-codegen-fuzz-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let iterations = std::env::var("HEMU_SPEC_FUZZ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ITERATIONS);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let started = std::time::Instant::now();

    // The unmutated spec must load, or the mutations prove little.
    {
        let dir = TempSpec(base.join("pristine"));
        std::fs::create_dir_all(&dir.0).unwrap();
        for (n, t) in &files {
            std::fs::write(dir.0.join(n), t).unwrap();
        }
        match load_caught(&dir.0, "specs/riscv") {
            Ok(Ok(_)) => {}
            other => panic!(
                "specs/riscv does not load unmutated: {:?}",
                other.map(|r| r.err())
            ),
        }
    }

    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (files, base) = (&files, &base);
                s.spawn(move || {
                    let dir = TempSpec(base.join(format!("w{t}")));
                    std::fs::create_dir_all(&dir.0).unwrap();
                    for (n, text) in files {
                        std::fs::write(dir.0.join(n), text).unwrap();
                    }
                    let mut out = Vec::new();
                    for iter in (t..iterations).step_by(threads) {
                        // Per-iteration seed: the same mutations whatever the
                        // thread count.
                        let mut rng = Rng::new(iter as u64);
                        let fi = rng.below(files.len());
                        let (name, orig) = &files[fi];
                        let mut text = orig.clone();
                        let mut did = Vec::new();
                        for _ in 0..1 + rng.below(3) {
                            did.push(mutate(&mut rng, &mut text));
                        }
                        let path = dir.0.join(name);
                        std::fs::write(&path, &text).unwrap();
                        let lines_of = |file: &str| {
                            let n = file.strip_prefix("specs/riscv/").unwrap_or(file);
                            let t = if n == name.as_str() {
                                Some(&text)
                            } else {
                                files.iter().find(|(f, _)| f == n).map(|(_, t)| t)
                            };
                            t.map_or(0, |t| t.lines().count())
                        };
                        let problem = match load_caught(&dir.0, "specs/riscv") {
                            Ok(Ok(_)) => None,
                            Ok(Err(e)) if e.line == 0 && !e.msg.starts_with("cannot read") => {
                                Some(format!("error without a line: {e}"))
                            }
                            Ok(Err(e)) if e.line > lines_of(&e.file) + 1 => {
                                Some(format!("error past the end of its file: {e}"))
                            }
                            Ok(Err(_)) => None,
                            Err(panic) => Some(panic),
                        };
                        std::fs::write(&path, orig).unwrap();
                        if let Some(p) = problem {
                            // Keep the offending file for a look.
                            let keep = std::env::temp_dir().join("hemu-codegen-fuzz-failures");
                            let kept = keep.join(format!("{iter}-{name}"));
                            let _ = std::fs::create_dir_all(&keep)
                                .and_then(|()| std::fs::write(&kept, &text));
                            out.push(format!(
                                "#{iter} {name} [{}; saved as {}]: {p}",
                                did.join("; "),
                                kept.display()
                            ));
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("fuzz worker died"))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&base);
    eprintln!(
        "{iterations} mutated loads on {threads} threads in {:.1?}",
        started.elapsed()
    );

    // Group by the message minus the iteration, so one bug shows once.
    let mut kinds: Vec<(String, usize, &String)> = Vec::new();
    for f in &failures {
        let key = f.split_once("]: ").map_or(f.as_str(), |(_, m)| m);
        let key: String = key.chars().take(70).collect();
        match kinds.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) => *n += 1,
            None => kinds.push((key, 1, f)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {iterations} mutated specs misbehaved ({} kinds); one example each:\n{}",
        failures.len(),
        kinds.len(),
        kinds
            .iter()
            .map(|(_, n, ex)| format!("  ({n}x) {ex}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
