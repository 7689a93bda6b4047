//! hemu's Linux user mode against QEMU's, instruction by instruction.
//!
//! `tests/traces/user-*.trace` were recorded once from `qemu-riscv64` /
//! `qemu-riscv32` 7.2 (`cargo xtask traces`; the format, and how QEMU was
//! run, are documented at `record_user` in `xtask/src/traces.rs`) and are
//! checked in, so this runs without QEMU. Each program runs in hemu's user
//! mode through the library ([`Process::step`]) with the trace's argv and
//! an empty environment, from the registers QEMU had at the entry point
//! (sp excepted: each emulator has its own stack), one instruction at a
//! time; a system call is one step. Before each step hemu's pc and
//! instruction bits must be QEMU's; after it every x register must equal
//! QEMU's, up to the [`ALLOWLIST`]; the last step must end the program
//! with QEMU's exit status.
//!
//! # What may differ ([`ALLOWLIST`])
//!
//! Only addresses that each emulator legitimately chooses for itself:
//! the initial stack ([`STACK`], [`STACK_DATA`]) and the addresses of new
//! mappings ([`MAPPING`]). Such values are compared as offsets from the
//! stack pointer at the entry, the top of the stack, or the mapping's
//! start, so a wrong offset (a misplaced push, a wrong length) is still
//! caught. Nothing else is allowed to differ and no instruction is
//! skipped. The traced programs are chosen not to hold host-dependent
//! values (process ids, clocks, random bytes, uid, auxv contents) in
//! registers; the summary each test prints says how many register values
//! matched only as offsets, and [`every_allowance_is_used`] prints the
//! allowlist.

use hemu_runtime::linux::{elf, select_model, Ending, Options, Process};
use std::collections::BTreeMap;
use std::path::Path;

/// A difference that is allowed, and why.
#[derive(Debug)]
struct Allowance {
    /// Short name (summaries).
    name: &'static str,
    /// Which register values it covers, and how they are compared instead.
    covers: &'static str,
    /// Why the values legitimately differ between QEMU and hemu.
    reason: &'static str,
}

/// Stack addresses.
const STACK: Allowance = Allowance {
    name: "stack",
    covers: "x2 (sp) at the entry and after every step, and any other register \
             holding an address from STACK_BELOW below the initial sp to the \
             top of the stack (hemu's, rounded up to a page): compared as an \
             offset from the initial sp",
    reason: "where the initial stack lies is the emulator's choice (Linux \
             randomizes it; QEMU 7.2 maps 8 MiB at its mmap base, ending at \
             0x4000801000 for riscv64 and 0x40801000 for riscv32; hemu ends \
             it a page below the top of the user address space); a program \
             may rely only on the layout relative to sp, which must agree",
};

/// Addresses of the data at the top of the initial stack.
const STACK_DATA: Allowance = Allowance {
    name: "stack data",
    covers: "any register holding an address in the data Linux puts at the \
             top of the initial stack, above the argc/argv/envp/auxv table: \
             the argument and environment strings, AT_EXECFN, AT_PLATFORM and \
             the AT_RANDOM bytes (hemu's [AT_RANDOM, stack top]; QEMU's as \
             far below its `stack top=`): compared as an offset from the top \
             of the stack",
    reason: "the stack top is the emulator's choice (as for sp), and how far \
             that data lies above sp depends on which auxv entries the \
             emulator provides (QEMU 7.2 gives riscv neither AT_HWCAP2 nor \
             AT_PLATFORM, hemu gives both), which the ABI leaves open: \
             programs reach the data only through the pointers in the table",
};

/// Addresses of new mappings.
const MAPPING: Allowance = Allowance {
    name: "mapping",
    covers: "a0 after an mmap (222) or mremap (216) that succeeded in both \
             emulators at different addresses; from then on any register \
             holding an address within that mapping as QEMU placed it \
             ([a0, a0 + length], length = mmap's a1 or mremap's a2): compared \
             as an offset from the mapping's start",
    reason: "without MAP_FIXED the kernel picks where a mapping goes (and \
             whether mremap moves it); QEMU 7.2 allocates bottom-up from \
             its mmap base, hemu top-down below the stack",
};

/// Every allowed difference.
const ALLOWLIST: &[&Allowance] = &[&STACK, &STACK_DATA, &MAPPING];

/// Values this far below the initial sp count as stack addresses (values
/// above it up to the top of the stack, rounded up to a page, as well: the
/// argc/argv/envp/auxv table, and the strings, which [`STACK_DATA`] takes
/// first).
const STACK_BELOW: u64 = 1 << 20;

/// asm-generic system-call numbers (RISC-V's) that create mappings.
const SYS_MREMAP: u64 = 216;
const SYS_MMAP: u64 = 222;
/// RISC-V `ecall`, the system-call instruction.
const ECALL: u32 = 0x0000_0073;
/// RISC-V registers: a0 (result, first argument), a1, a2, a7 (number).
const A0: usize = 10;
const A1: usize = 11;
const A2: usize = 12;
const A7: usize = 17;
/// Page size of the traced programs (mmap lengths are rounded up to it).
const PAGE: u64 = 4096;
/// The auxv key of the random bytes (the same in every Linux ABI).
const AT_RANDOM: u64 = 25;

struct Step {
    pc: u64,
    insn: u32,
    /// Instruction length in bytes (2: compressed, 4).
    len: usize,
    changes: Vec<(usize, u64)>,
}

struct Trace {
    xlen: u32,
    guest: String,
    argv: Vec<String>,
    /// End of QEMU's stack mapping.
    stack_top: Option<u64>,
    init_pc: u64,
    init: Vec<(usize, u64)>,
    steps: Vec<Step>,
    /// The exit status of the program, whose last step ends it.
    exit: Option<i32>,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex '{s}'"))
}

fn regs(fields: &[&str]) -> Vec<(usize, u64)> {
    fields
        .iter()
        .map(|f| {
            let (r, v) = f.split_once('=').expect("reg=value");
            let n = r
                .strip_prefix('x')
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unsupported field '{f}' (x registers only)"));
            (n, hex(v))
        })
        .collect()
}

fn parse(text: &str) -> Trace {
    let mut t = Trace {
        xlen: 0,
        guest: String::new(),
        argv: Vec::new(),
        stack_top: None,
        init_pc: 0,
        init: Vec::new(),
        steps: Vec::new(),
        exit: None,
    };
    let mut user = false;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first() {
            Some(&"#") if line.contains("guest: ") => {
                t.guest = line
                    .split("guest: ")
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string();
            }
            Some(&"mode") => user = f.get(1) == Some(&"user"),
            Some(&"argv") => t.argv = f[1..].iter().map(|s| s.to_string()).collect(),
            Some(&"stack") => t.stack_top = Some(hex(f[1].trim_start_matches("top="))),
            Some(&"arch") => t.xlen = f[2].trim_start_matches("xlen=").parse().expect("xlen"),
            Some(&"init") => {
                t.init_pc = hex(f[1].trim_start_matches("pc="));
                t.init = regs(&f[2..]);
            }
            Some(&"step") => {
                let insn = f[2].trim_start_matches("insn=");
                t.steps.push(Step {
                    pc: hex(f[1].trim_start_matches("pc=")),
                    insn: hex(insn) as u32,
                    len: insn.len() / 2,
                    changes: regs(&f[3..]),
                })
            }
            Some(&"exit") => {
                t.exit = Some(hex(f[1].trim_start_matches("status=")) as i32);
            }
            _ => {}
        }
    }
    assert!(user, "not a user-mode trace (no `mode user` line)");
    assert!(!t.argv.is_empty(), "no argv line");
    t
}

/// An address range in which QEMU's and hemu's values correspond at a
/// fixed distance: QEMU's `q_base + off` is hemu's `h_base + off` for
/// `-below <= off <= above`.
struct Correspondence {
    q_base: u64,
    h_base: u64,
    below: u64,
    above: u64,
    why: &'static Allowance,
}

/// How hemu's and QEMU's registers are compared.
struct Comparator {
    mask: u64,
    xlen: u32,
    /// Newest first.
    corr: Vec<Correspondence>,
    /// Register values that matched only through an allowance, by name.
    allowed: BTreeMap<&'static str, usize>,
}

impl Comparator {
    /// `v` as a signed offset, sign-extended from XLEN bits.
    fn signed(&self, v: u64) -> i64 {
        let sh = 64 - self.xlen;
        ((v & self.mask) << sh) as i64 >> sh
    }

    /// Does hemu's value `h` stand for QEMU's value `q`? `Some(None)` when
    /// equal, `Some(Some(allowance))` when they correspond through one.
    fn matches(&self, h: u64, q: u64) -> Option<Option<&'static Allowance>> {
        let (h, q) = (h & self.mask, q & self.mask);
        if h == q {
            return Some(None);
        }
        for c in &self.corr {
            let off = self.signed(q.wrapping_sub(c.q_base));
            let inside = (off < 0 && off.unsigned_abs() <= c.below)
                || (off >= 0 && off.unsigned_abs() <= c.above);
            if inside {
                // The newest correspondence covering QEMU's value decides.
                return (c.h_base.wrapping_add(off as u64) & self.mask == h).then_some(Some(c.why));
            }
        }
        None
    }

    /// Where QEMU's value `q` lies (and hemu's `h` against the same
    /// base), for reports.
    fn describe(&self, h: u64, q: u64) -> String {
        let rel = |off: i64| {
            let sign = if off < 0 { '-' } else { '+' };
            format!("{sign} {:#x}", off.unsigned_abs())
        };
        for c in &self.corr {
            let off = self.signed(q.wrapping_sub(c.q_base));
            if (off < 0 && off.unsigned_abs() <= c.below) || (off >= 0 && off as u64 <= c.above) {
                let h_off = self.signed(h.wrapping_sub(c.h_base));
                return format!(
                    " (a {} address: QEMU's base {}, hemu's base {})",
                    c.why.name,
                    rel(off),
                    rel(h_off)
                );
            }
        }
        String::new()
    }

    /// Compare every register; record the allowances used.
    fn compare(
        &mut self,
        hemu: &[u64],
        qemu: &BTreeMap<usize, u64>,
        names: &[&str],
    ) -> Result<(), String> {
        let mut diffs = Vec::new();
        for (&r, &q) in qemu {
            let h = hemu[r];
            match self.matches(h, q) {
                Some(None) => {}
                Some(Some(a)) => *self.allowed.entry(a.name).or_default() += 1,
                None => diffs.push(format!(
                    "x{r}/{}: hemu {:#x}, QEMU {:#x}{}",
                    names.get(r).copied().unwrap_or("?"),
                    h & self.mask,
                    q,
                    self.describe(h, q)
                )),
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("; "))
        }
    }
}

/// What a successful replay saw.
#[derive(Debug)]
struct Summary {
    steps: usize,
    /// Register values that matched only as offsets, by allowance.
    allowed: BTreeMap<&'static str, usize>,
}

/// Run the trace's program in hemu's user mode; the first divergence is
/// the error, starting with `step N ` (or `entry: `).
fn replay(root: &Path, t: &Trace) -> Result<Summary, String> {
    let image = std::fs::read(root.join(&t.guest)).map_err(|e| format!("{}: {e}", t.guest))?;
    let h = elf::header(&image).map_err(|e| format!("{}: {e}", t.guest))?;
    let (model, abi) = select_model(hemu_frontends::FRONTENDS, &h)?;
    let argv: Vec<Vec<u8>> = t.argv.iter().map(|a| a.as_bytes().to_vec()).collect();
    let opts = Options {
        seed: Some(1),
        ..Default::default()
    };
    let mut p = Process::new(model, abi, &image, &argv, &[], root.join(&t.guest), opts)?;
    if p.model().word_bits() != t.xlen {
        return Err(format!(
            "entry: hemu runs the program as {}-bit, QEMU as {}-bit",
            p.model().word_bits(),
            t.xlen
        ));
    }
    let files = p.model().reg_files();
    let x = files
        .iter()
        .find(|f| f.name == "X")
        .ok_or("the model has no X register file")?;
    let (base, names) = (x.base, x.names);
    let sp = p.abi().sp_reg - base;
    let mask = if t.xlen == 32 { 0xffff_ffff } else { u64::MAX };
    let xregs = |p: &Process| -> Vec<u64> { p.cpu().regs[base..base + 32].to_vec() };

    let mut expect: BTreeMap<usize, u64> = (1..32).map(|r| (r, 0)).collect();
    for (r, v) in &t.init {
        expect.insert(*r, *v);
    }
    let mut cmp = Comparator {
        mask,
        xlen: t.xlen,
        corr: vec![Correspondence {
            q_base: expect[&sp],
            h_base: xregs(&p)[sp] & mask,
            below: STACK_BELOW,
            above: (p.memory().stack_top - (xregs(&p)[sp] & mask)).div_ceil(PAGE) * PAGE,
            why: &STACK,
        }],
        allowed: BTreeMap::new(),
    };
    if let Some(q_top) = t.stack_top {
        let h_top = p.memory().stack_top;
        let lo = at_random(&p, xregs(&p)[sp] & mask)?;
        cmp.corr.insert(
            0,
            Correspondence {
                q_base: q_top,
                h_base: h_top,
                below: h_top - lo,
                above: 0,
                why: &STACK_DATA,
            },
        );
    }
    // hemu's loader must start the program as QEMU's did; then take
    // QEMU's values (sp excepted).
    if p.cpu().pc != t.init_pc {
        return Err(format!(
            "entry: hemu starts at pc={:#x}, QEMU at pc={:#x}",
            p.cpu().pc,
            t.init_pc
        ));
    }
    cmp.compare(&xregs(&p), &expect, names)
        .map_err(|d| format!("entry: {d}"))?;
    for (r, v) in &expect {
        if *r != sp {
            p.cpu_mut().regs[base + r] = *v;
        }
    }

    for (i, s) in t.steps.iter().enumerate() {
        let pc = p.cpu().pc & mask;
        let mut bytes = vec![0u8; s.len];
        let fetched = p.memory().read(pc, &mut bytes).is_ok();
        let dis = if fetched {
            p.model()
                .disassemble(&bytes, pc)
                .map(|d| d.0)
                .unwrap_or_else(|_| "?".into())
        } else {
            "unmapped".into()
        };
        let where_ = format!("step {i} at pc={pc:#x} ({dis})");
        let want = &s.insn.to_le_bytes()[..s.len];
        if pc != s.pc || !fetched || bytes != want {
            let width = 2 * s.len;
            let have: String = bytes.iter().rev().map(|b| format!("{b:02x}")).collect();
            return Err(format!(
                "{where_}: hemu's instruction is {have}; QEMU is at pc={:#x} insn={:0width$x}",
                s.pc, s.insn
            ));
        }
        // A system call's number and arguments, as QEMU had them.
        let call = (s.insn == ECALL).then(|| (expect[&A7], expect[&A1], expect[&A2]));
        let end = p.step();
        let last = i + 1 == t.steps.len();
        match (end, last.then_some(t.exit).flatten()) {
            (Some(Ending::Exited(st)), Some(want)) if st == want => {
                return Ok(Summary {
                    steps: t.steps.len(),
                    allowed: cmp.allowed,
                })
            }
            (Some(e), want) => {
                let qemu = match want {
                    Some(w) => format!("QEMU's exited with status {w}"),
                    None => "QEMU's went on".into(),
                };
                return Err(format!("{where_}: hemu's program ended ({e:?}); {qemu}"));
            }
            (None, Some(want)) => {
                return Err(format!(
                    "{where_}: QEMU's program exited with status {want}; hemu's went on"
                ))
            }
            (None, None) => {}
        }
        for (r, v) in &s.changes {
            expect.insert(*r, *v);
        }
        let hemu = xregs(&p);
        if let Some((nr, a1, a2)) = call {
            let (q, h) = (expect[&A0] & mask, hemu[A0] & mask);
            // Not an error (-4095..=-1).
            let ok = |v: u64| v & mask <= mask - PAGE;
            let len = match nr {
                SYS_MMAP => Some(a1),
                SYS_MREMAP => Some(a2),
                _ => None,
            };
            if let Some(len) = len.filter(|_| q != h && ok(q) && ok(h)) {
                cmp.corr.insert(
                    0,
                    Correspondence {
                        q_base: q,
                        h_base: h,
                        below: 0,
                        above: len.div_ceil(PAGE) * PAGE,
                        why: &MAPPING,
                    },
                );
            }
        }
        cmp.compare(&hemu, &expect, names)
            .map_err(|d| format!("{where_}: {d}"))?;
    }
    Err(match t.exit {
        Some(_) => "the trace has no steps".into(),
        None => format!(
            "after step {}: the trace does not say how the program ends",
            t.steps.len()
        ),
    })
}

/// The `AT_RANDOM` pointer on hemu's initial stack at `sp`.
fn at_random(p: &Process, sp: u64) -> Result<u64, String> {
    let w = u64::from(p.model().word_bits() / 8);
    let word = |a: u64| {
        p.memory()
            .read_word(a)
            .map_err(|e| format!("entry: hemu's initial stack at {a:#x}: {e:?}"))
    };
    // argc, argv[], NULL, envp[], NULL, then (key, value) pairs.
    let mut a = sp + w * (word(sp)? + 2);
    while word(a)? != 0 {
        a += w;
    }
    a += w;
    loop {
        match word(a)? {
            0 => return Err("entry: hemu's auxv has no AT_RANDOM".into()),
            AT_RANDOM => return word(a + w),
            _ => a += 2 * w,
        }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Trace {
    let path = root()
        .join("tests/traces")
        .join(format!("user-{name}.trace"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&text)
}

/// The traces this file checks (one test each).
const TRACES: &[&str] = &[
    "hello64", "hello32", "brk", "mmap", "enosys", "efault", "cat", "exit42",
];

fn check(name: &str, min_steps: usize) {
    let t = load(name);
    assert!(
        t.steps.len() >= min_steps,
        "user-{name}.trace: only {} steps",
        t.steps.len()
    );
    match replay(root(), &t) {
        Ok(s) => eprintln!(
            "user-{name}: {} instructions agree with QEMU; matched as offsets: {:?}",
            s.steps, s.allowed
        ),
        Err(e) => panic!("user-{name}: first divergence from QEMU: {e}"),
    }
}

#[test]
fn hello64_matches_qemu_user() {
    check("hello64", 10);
}

#[test]
fn hello32_matches_qemu_user() {
    check("hello32", 10);
}

#[test]
fn brk_matches_qemu_user() {
    check("brk", 100);
}

#[test]
fn mmap_matches_qemu_user() {
    check("mmap", 150);
}

#[test]
fn enosys_matches_qemu_user() {
    check("enosys", 50);
}

#[test]
fn efault_matches_qemu_user() {
    check("efault", 50);
}

#[test]
fn cat_matches_qemu_user() {
    check("cat", 500);
}

#[test]
fn exit42_matches_qemu_user() {
    check("exit42", 3);
}

/// A trace recorded by `cargo xtask traces` but not listed here would go
/// unchecked.
#[test]
fn every_user_trace_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("tests/traces"))
        .expect("tests/traces")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(
                name.strip_prefix("user-")?
                    .strip_suffix(".trace")?
                    .to_string(),
            )
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = TRACES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

/// Every allowance is needed by some trace (an unused one would only hide
/// future bugs); prints the allowlist with what each covers and why.
#[test]
fn every_allowance_is_used() {
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for name in TRACES {
        let s = replay(root(), &load(name)).unwrap_or_else(|e| panic!("user-{name}: {e}"));
        for (a, n) in s.allowed {
            *used.entry(a).or_default() += n;
        }
    }
    for a in ALLOWLIST {
        eprintln!(
            "allowed ({} register values): {}\n  covers: {}\n  reason: {}",
            used.get(a.name).copied().unwrap_or(0),
            a.name,
            a.covers,
            a.reason
        );
        assert!(
            used.contains_key(a.name),
            "allowance {} is never used",
            a.name
        );
    }
}

/// The comparison must be able to fail, also where the allowlist applies:
/// each corruption must be reported at the step that has it.
#[test]
fn corrupted_traces_are_caught_at_the_right_step() {
    let expect_at = |t: &Trace, i: usize, what: &str| {
        let err = replay(root(), t).expect_err(what);
        assert!(err.starts_with(&format!("step {i} ")), "{what}: {err}");
        err
    };
    let pristine = load("mmap");
    let first_mmap = pristine
        .steps
        .iter()
        .position(|s| s.insn == ECALL)
        .expect("a system call");

    // A plain value deep in the trace.
    let mut t = load("mmap");
    let i = t
        .steps
        .iter()
        .rposition(|s| s.changes.iter().any(|c| c.0 == 5))
        .expect("a step that writes t0");
    let c = t.steps[i].changes.iter_mut().find(|c| c.0 == 5).unwrap();
    c.1 ^= 0x10;
    let err = expect_at(&t, i, "a corrupted t0");
    assert!(err.contains("x5/"), "{err}");

    // An address inside a mapping (compared as an offset): off by 8.
    let mut t = load("mmap");
    let i = t
        .steps
        .iter()
        .enumerate()
        .skip(first_mmap + 1)
        .position(|(_, s)| s.changes.iter().any(|c| c.0 == 9))
        .map(|p| p + first_mmap + 1)
        .expect("a step that writes s1 after the first mmap");
    let c = t.steps[i].changes.iter_mut().find(|c| c.0 == 9).unwrap();
    c.1 += 8;
    let err = expect_at(&t, i, "a corrupted mapping address");
    assert!(
        err.contains("x9/") && err.contains("mapping address"),
        "{err}"
    );

    // The stack pointer (compared as an offset): off by 16.
    let mut t = load("efault");
    let i = t
        .steps
        .iter()
        .position(|s| s.changes.iter().any(|c| c.0 == 2))
        .expect("a step that moves sp");
    let c = t.steps[i].changes.iter_mut().find(|c| c.0 == 2).unwrap();
    c.1 = c.1.wrapping_sub(16);
    let err = expect_at(&t, i, "a corrupted sp");
    assert!(
        err.contains("x2/") && err.contains("stack address"),
        "{err}"
    );

    // An instruction word.
    let mut t = load("brk");
    let i = t.steps.len() / 2;
    t.steps[i].insn ^= 1 << 20;
    expect_at(&t, i, "a corrupted instruction");

    // The exit status.
    let mut t = load("hello64");
    t.exit = Some(3);
    let last = t.steps.len() - 1;
    let err = expect_at(&t, last, "a wrong exit status");
    assert!(err.contains("status 3"), "{err}");
}
