//! Comparing two traces: the first divergence, with context.
//!
//! The reference (QEMU's trace, usually) and the candidate (hemu's) are
//! walked together, one record each. Before each instruction both must
//! be at the same pc with the same instruction bits; after it, every
//! register both traces know must agree — except where [`Rules`] say
//! otherwise: ignored registers, registers compared as offsets from an
//! address each emulator picks for itself (the user-mode stack), and
//! known divergences from the allowlist. A record marked `nostate` in
//! either trace is not a comparison point (its changes count at the next
//! one). The traces must end alike: same exit status, or same final pc.

use crate::format::{Step, Trace, TrapInfo};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// A difference that is expected, and why (the allowlist).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// Register name.
    pub reg: String,
    /// The candidate's (hemu's) value.
    pub candidate: u64,
    /// The reference's (QEMU's) value.
    pub reference: u64,
    /// Why they differ.
    pub reason: String,
}

/// An address range where the two emulators' values correspond at a
/// fixed distance: the reference's `ref_base + off` is the candidate's
/// `cand_base + off` for `-below <= off <= above`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// What it is (`stack`), for reports.
    pub name: String,
    /// Base in the reference.
    pub ref_base: u64,
    /// Base in the candidate.
    pub cand_base: u64,
    /// How far below the base the range goes.
    pub below: u64,
    /// How far above.
    pub above: u64,
}

/// Where a Linux ABI keeps system calls, for the mapping rule: without
/// `MAP_FIXED` each emulator picks where a new mapping goes, so when an
/// `mmap`/`mremap` succeeds at different addresses, addresses in the new
/// mapping compare as offsets from its start from then on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallAbi {
    /// The system-call instruction's bits (as the trace writes them).
    pub insn: String,
    /// Register holding the call number.
    pub nr: String,
    /// Register holding the result.
    pub ret: String,
    /// `mmap`'s number and the register holding its length.
    pub mmap: (u64, String),
    /// `mremap`'s number and the register holding its new length.
    pub mremap: (u64, String),
}

impl SyscallAbi {
    /// The ABI of an ISA's Linux traces, if the rule knows it.
    pub fn of(isa: &str) -> Option<SyscallAbi> {
        let s = |v: &str| v.to_string();
        match isa {
            // asm-generic numbers: a7 = number, a0 = result.
            "riscv" => Some(SyscallAbi {
                insn: s("00000073"),
                nr: s("x17"),
                ret: s("x10"),
                mmap: (222, s("x11")),
                mremap: (216, s("x12")),
            }),
            // o32: v0 = number and result.
            "mips" => Some(SyscallAbi {
                insn: s("0000000c"),
                nr: s("r2"),
                ret: s("r2"),
                mmap: (4090, s("r5")),
                mremap: (4167, s("r6")),
            }),
            _ => None,
        }
    }
}

/// How two traces are compared.
#[derive(Clone, Debug)]
pub struct Rules {
    /// User mode: where system calls are, for the mapping rule.
    pub syscalls: Option<SyscallAbi>,
    /// Registers never compared.
    pub ignore: Vec<String>,
    /// Address ranges compared as offsets, first match wins.
    pub regions: Vec<Region>,
    /// Known divergences.
    pub known: Vec<Known>,
    /// How many agreeing instructions a report shows.
    pub context: usize,
    /// Register width in bits (values are compared modulo 2^bits, offsets
    /// are signed in it).
    pub bits: u32,
    /// Names of the two sides in reports.
    pub labels: (String, String),
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            syscalls: None,
            ignore: Vec::new(),
            regions: Vec::new(),
            known: Vec::new(),
            context: 8,
            bits: 64,
            labels: ("QEMU".into(), "hemu".into()),
        }
    }
}

impl Rules {
    /// The stack of a user-mode program: each emulator places it where it
    /// likes, so `sp` and any value from 1 MiB below the initial sp to the
    /// top of the stack compare as offsets from the initial sp; values in
    /// the data at the top (argument strings, AT_RANDOM bytes: their
    /// distance from sp depends on the auxv entries each emulator
    /// provides) compare as offsets from the top of the stack, when both
    /// traces give the top and one says where that data starts
    /// (`stack_data`; hemu's traces do).
    pub fn user_stack(&mut self, reference: &Trace, candidate: &Trace, sp: &str) {
        let get = |t: &Trace| t.init.iter().find(|(n, _)| n == sp).map(|r| r.1);
        let (Some(r_sp), Some(c_sp)) = (get(reference), get(candidate)) else {
            return;
        };
        let tops = (reference.header.stack_top, candidate.header.stack_top);
        let data = candidate
            .header
            .stack_data
            .zip(candidate.header.stack_top)
            .map(|(d, t)| t - d)
            .or_else(|| {
                let h = &reference.header;
                h.stack_data.zip(h.stack_top).map(|(d, t)| t - d)
            });
        if let ((Some(rt), Some(ct)), Some(below)) = (tops, data) {
            self.regions.push(Region {
                name: "stack data".into(),
                ref_base: rt,
                cand_base: ct,
                below,
                above: 0,
            });
        }
        let above = match tops {
            (Some(rt), _) => rt.saturating_sub(r_sp),
            (None, Some(ct)) => ct.saturating_sub(c_sp),
            _ => 1 << 16,
        };
        self.regions.push(Region {
            name: "stack".into(),
            ref_base: r_sp,
            cand_base: c_sp,
            below: 1 << 20,
            above,
        });
    }

    fn mask(&self) -> u64 {
        if self.bits >= 64 {
            u64::MAX
        } else {
            (1 << self.bits) - 1
        }
    }

    fn signed(&self, v: u64) -> i64 {
        let sh = 64 - self.bits.clamp(1, 64);
        ((v & self.mask()) << sh) as i64 >> sh
    }

    /// How `c` (candidate) stands for `r` (reference): `None` when it
    /// does not; `Some(None)` when equal; `Some(Some(why))` otherwise.
    fn matches(&self, name: &str, r: u64, c: u64) -> Option<Option<String>> {
        let m = self.mask();
        if r & m == c & m {
            return Some(None);
        }
        for g in &self.regions {
            let off = self.signed(r.wrapping_sub(g.ref_base));
            let inside = (off < 0 && off.unsigned_abs() <= g.below)
                || (off >= 0 && off.unsigned_abs() <= g.above);
            if inside {
                return (g.cand_base.wrapping_add(off as u64) & m == c & m)
                    .then(|| Some(g.name.clone()));
            }
        }
        self.known
            .iter()
            .find(|k| k.reg == name && k.reference & m == r & m && k.candidate & m == c & m)
            .map(|k| Some(format!("known: {}", k.reason)))
    }
}

/// One register in a divergence report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegPair {
    /// Name.
    pub name: String,
    /// The reference's value (None: it does not record this register).
    pub reference: Option<u64>,
    /// The candidate's value.
    pub candidate: Option<u64>,
    /// Counts as a difference.
    pub differs: bool,
}

/// What kind of divergence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The two are at different instructions (pc or bits).
    Flow,
    /// Registers differ after the instruction.
    Registers,
    /// One trace ends before the other, or they end differently.
    End,
}

/// The first place where two traces disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Record index in the reference (`None`: the init record).
    pub index: Option<usize>,
    /// What differs.
    pub kind: Kind,
    /// The instruction: pc, bits and disassembly.
    pub pc: u64,
    /// Instruction bits (the reference's, hex).
    pub insn: String,
    /// Disassembly (the candidate's, else the reference's).
    pub dis: String,
    /// One-line description.
    pub message: String,
    /// The last agreeing instructions, oldest first (formatted lines).
    pub context: Vec<String>,
    /// Both register states after the instruction (all known registers).
    pub regs: Vec<RegPair>,
    /// Names of the two sides.
    pub labels: (String, String),
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.index {
            Some(i) => format!("step {i}"),
            None => "entry".into(),
        };
        writeln!(
            f,
            "{at} at pc={:#x} ({} {}): {}",
            self.pc, self.insn, self.dis, self.message
        )?;
        if !self.context.is_empty() {
            writeln!(f, "  last {} agreeing instructions:", self.context.len())?;
            for c in &self.context {
                writeln!(f, "    {c}")?;
            }
        }
        if !self.regs.is_empty() {
            let (a, b) = &self.labels;
            let when = if self.index.is_some() {
                "after it"
            } else {
                "at the entry"
            };
            writeln!(
                f,
                "  registers {when} ({a} | {b}; differing ones marked >>):"
            )?;
            let show = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{v:#x}"));
            for r in &self.regs {
                let mark = if r.differs { ">>" } else { "  " };
                writeln!(
                    f,
                    "  {mark} {:<10} {:>18} | {}",
                    r.name,
                    show(r.reference),
                    show(r.candidate)
                )?;
            }
        }
        Ok(())
    }
}

/// What an agreeing comparison saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Reference records compared.
    pub steps: usize,
    /// Points where register states were compared.
    pub checkpoints: usize,
    /// Register values that matched only through a rule, by rule.
    pub allowed: BTreeMap<String, usize>,
}

/// Compare `candidate` against `reference`.
pub fn compare(
    reference: &Trace,
    candidate: &Trace,
    rules: &Rules,
) -> Result<Summary, Box<Divergence>> {
    let mut sum = Summary::default();
    // The mapping rule adds regions as the traces go.
    let mut rules_now = rules.clone();
    let rules = &mut rules_now;
    let mut rs: BTreeMap<&str, u64> = reference.init.iter().map(|(k, v)| (&**k, *v)).collect();
    let mut cs: BTreeMap<&str, u64> = candidate.init.iter().map(|(k, v)| (&**k, *v)).collect();
    let mut ctx: VecDeque<String> = VecDeque::new();
    let diverge = |index: Option<usize>,
                   kind: Kind,
                   s: Option<(&Step, Option<&Step>)>,
                   message: String,
                   ctx: &VecDeque<String>,
                   regs: Vec<RegPair>| {
        let (pc, insn, dis) = match s {
            Some((r, c)) => (
                r.pc,
                r.insn.clone(),
                c.and_then(|c| c.dis.clone())
                    .or_else(|| r.dis.clone())
                    .unwrap_or_default(),
            ),
            None => (reference.init_pc, String::new(), String::new()),
        };
        Box::new(Divergence {
            index,
            kind,
            pc,
            insn,
            dis,
            message,
            context: ctx.iter().cloned().collect(),
            regs,
            labels: rules.labels.clone(),
        })
    };
    let (rl, cl) = (&rules.labels.0, &rules.labels.1);
    if reference.init_pc != candidate.init_pc {
        return Err(diverge(
            None,
            Kind::Flow,
            None,
            format!(
                "{rl} starts at pc={:#x}, {cl} at pc={:#x}",
                reference.init_pc, candidate.init_pc
            ),
            &ctx,
            Vec::new(),
        ));
    }
    if let Some(regs) = check(&rs, &cs, rules, &mut sum) {
        return Err(diverge(
            None,
            Kind::Registers,
            None,
            "registers differ before the first instruction".into(),
            &ctx,
            regs,
        ));
    }
    let n = reference.steps.len().min(candidate.steps.len());
    for i in 0..n {
        let (r, c) = (&reference.steps[i], &candidate.steps[i]);
        if r.pc != c.pc || r.insn != c.insn || (r.cluster, r.cpu) != (c.cluster, c.cpu) {
            let after_trap = match i.checked_sub(1).map(|p| &reference.steps[p].trap) {
                Some(Some(_)) => format!(" (after {rl} took a trap)"),
                _ => String::new(),
            };
            let cdis = c.dis.as_deref().unwrap_or("");
            return Err(diverge(
                Some(i),
                Kind::Flow,
                Some((r, None)),
                format!(
                    "{rl} runs cpu {}/{} pc={:#x} insn={}, {cl} cpu {}/{} pc={:#x} insn={} ({cdis}){after_trap}",
                    r.cluster, r.cpu, r.pc, r.insn, c.cluster, c.cpu, c.pc, c.insn
                ),
                &ctx,
                Vec::new(),
            ));
        }
        // A system call that maps memory: its number and length, as the
        // reference had them before it.
        let call = rules
            .syscalls
            .as_ref()
            .filter(|a| a.insn == r.insn)
            .and_then(|a| {
                let nr = rs.get(&*a.nr).copied()?;
                let len = if nr == a.mmap.0 {
                    rs.get(&*a.mmap.1).copied()?
                } else if nr == a.mremap.0 {
                    rs.get(&*a.mremap.1).copied()?
                } else {
                    return None;
                };
                Some((a.ret.clone(), len))
            });
        for (k, v) in &r.regs {
            rs.insert(k, *v);
        }
        for (k, v) in &c.regs {
            cs.insert(k, *v);
        }
        if let Some((ret, len)) = call {
            let m = rules.mask();
            let ok = |v: u64| v & m <= m - 4095;
            if let (Some(&q), Some(&h)) = (rs.get(&*ret), cs.get(&*ret)) {
                if q & m != h & m && ok(q) && ok(h) {
                    rules.regions.insert(
                        0,
                        Region {
                            name: "mapping".into(),
                            ref_base: q,
                            cand_base: h,
                            below: 0,
                            above: len.div_ceil(4096) * 4096,
                        },
                    );
                }
            }
        }
        sum.steps += 1;
        if !(r.nostate || c.nostate) {
            sum.checkpoints += 1;
            if let Some(regs) = check(&rs, &cs, &*rules, &mut sum) {
                let names: Vec<&str> = regs
                    .iter()
                    .filter(|p| p.differs)
                    .map(|p| &*p.name)
                    .collect();
                return Err(diverge(
                    Some(i),
                    Kind::Registers,
                    Some((r, Some(c))),
                    format!("registers differ: {}", names.join(", ")),
                    &ctx,
                    regs,
                ));
            }
        }
        let trap = match r.trap.or(c.trap) {
            Some(TrapInfo::Cause(x)) => format!(" [trap {x:#x}]"),
            Some(TrapInfo::Unknown) => " [trap]".into(),
            None => String::new(),
        };
        let dis = c.dis.as_deref().or(r.dis.as_deref()).unwrap_or("");
        ctx.push_back(format!(
            "{i:>6}  {:#010x}  {:<8}  {dis}{trap}",
            r.pc, r.insn
        ));
        if ctx.len() > rules.context {
            ctx.pop_front();
        }
    }
    let end = |i: usize, msg: String, ctx: &VecDeque<String>| {
        let s = reference.steps.get(i).or(reference.steps.last());
        Err(diverge(
            Some(i),
            Kind::End,
            s.map(|s| (s, None)),
            msg,
            ctx,
            Vec::new(),
        ))
    };
    if reference.steps.len() > n {
        let tail = match candidate.exit {
            Some(x) => format!("ended with status {x}"),
            None => "stopped".into(),
        };
        return end(
            n,
            format!("{cl}'s trace {tail} after {n} instructions; {rl}'s goes on"),
            &ctx,
        );
    }
    if candidate.steps.len() > n {
        let tail = match reference.exit {
            Some(x) => format!("ended with status {x}"),
            None => "stops".into(),
        };
        return end(
            n,
            format!("{rl}'s trace {tail} after {n} instructions; {cl}'s goes on"),
            &ctx,
        );
    }
    if let Some(x) = reference.exit {
        if candidate.exit != Some(x) {
            let got = candidate.exit.map_or("did not exit".to_string(), |c| {
                format!("exited with status {c}")
            });
            return end(
                n.saturating_sub(1),
                format!("{rl}'s program exited with status {x}; {cl}'s {got}"),
                &ctx,
            );
        }
    }
    if let (Some(a), Some(b)) = (reference.end_pc, candidate.end_pc) {
        if a != b && reference.exit.is_none() {
            return end(
                n.saturating_sub(1),
                format!("after the last instruction {rl} is at pc={a:#x}, {cl} at pc={b:#x}"),
                &ctx,
            );
        }
    }
    Ok(sum)
}

/// Compare the registers both states know; the full report if any differ.
fn check(
    rs: &BTreeMap<&str, u64>,
    cs: &BTreeMap<&str, u64>,
    rules: &Rules,
    sum: &mut Summary,
) -> Option<Vec<RegPair>> {
    let mut bad = false;
    let mut allowed: Vec<String> = Vec::new();
    for (name, r) in rs {
        if rules.ignore.iter().any(|i| i == name) {
            continue;
        }
        let Some(c) = cs.get(name) else { continue };
        match rules.matches(name, *r, *c) {
            Some(None) => {}
            Some(Some(why)) => allowed.push(why),
            None => bad = true,
        }
    }
    if !bad {
        for a in allowed {
            *sum.allowed.entry(a).or_default() += 1;
        }
        return None;
    }
    // The registers both record (the others say nothing either way).
    let mut names: Vec<&str> = rs.keys().filter(|n| cs.contains_key(*n)).copied().collect();
    names.sort_by_key(|n| reg_order(n));
    Some(
        names
            .into_iter()
            .map(|n| {
                let (r, c) = (rs.get(n).copied(), cs.get(n).copied());
                let differs = match (r, c) {
                    (Some(r), Some(c)) => {
                        !rules.ignore.iter().any(|i| i == n) && rules.matches(n, r, c).is_none()
                    }
                    _ => false,
                };
                RegPair {
                    name: n.to_string(),
                    reference: r,
                    candidate: c,
                    differs,
                }
            })
            .collect(),
    )
}

/// Registers in a natural order: by prefix, then number (x2 before x10).
fn reg_order(n: &str) -> (String, u32, String) {
    let digits = n.trim_start_matches(|c: char| !c.is_ascii_digit());
    let prefix = &n[..n.len() - digits.len()];
    (
        prefix.to_string(),
        digits.parse().unwrap_or(u32::MAX),
        n.to_string(),
    )
}
