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
    '0', '1', '.', '-', '_', ' ', 'x', '9', '{', '}', '(', ')', '[', ']', ';', ':', ',', '"',
    '\'', '|', '&', '!', '<', '>', '=', '+', '*', '/', '%', '^', 'X', 'r', 'd', 's', 'i', 'm',
    'P', 'C', '#', '\\', '\t', 'é', '\u{0}',
];

/// Apply one random mutation to `text`; returns a description.
fn mutate(rng: &mut Rng, text: &mut String) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let what = match rng.below(10) {
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

const ITERATIONS: usize = 3000;

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
            other => panic!("specs/riscv does not load unmutated: {:?}", other.map(|r| r.err())),
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
                    for iter in (t..ITERATIONS).step_by(threads) {
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
                        let problem = match load_caught(&dir.0, "specs/riscv") {
                            Ok(Ok(_)) => None,
                            Ok(Err(e)) if e.line == 0 && !e.msg.starts_with("cannot read") => {
                                Some(format!("error without a line: {e}"))
                            }
                            Ok(Err(_)) => None,
                            Err(panic) => Some(panic),
                        };
                        std::fs::write(&path, orig).unwrap();
                        if let Some(p) = problem {
                            out.push(format!("#{iter} {name} [{}]: {p}", did.join("; ")));
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
        "{ITERATIONS} mutated loads on {threads} threads in {:.1?}",
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
        "{} of {ITERATIONS} mutated specs misbehaved ({} kinds); one example each:\n{}",
        failures.len(),
        kinds.len(),
        kinds
            .iter()
            .map(|(_, n, ex)| format!("  ({n}x) {ex}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
