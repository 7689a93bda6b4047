//! Differential tests: randomly generated IR run by the interpreter (the
//! oracle), by the interpreter after the optimiser, and by the JIT; every
//! register, every byte of memory, the pc, the retired-instruction count
//! and the traps taken must agree.
//!
//! A mock ISA whose "instruction" at each pc is a random IR sequence
//! derived from (seed, pc) drives the real translator, dispatcher, chaining,
//! host TLB and trap paths: loads and stores (aligned, misaligned, faulting,
//! into translated code), helpers of both effect kinds, in-block branches,
//! direct and indirect exits and exceptions.

use super::*;
use crate::cpu::*;
use crate::engine::{Engine, ExecCtx, Exit, Interpreter, TranslationCache};
use crate::ir::{BinOp, Cond, Endian, HelperEffects, IrBuilder, MemOp, RegId, Temp, Ty};
use crate::memory::{AddressSpace, Memory, RamBlock, Region, Target};

const NREGS: usize = 16;
/// Where the RAM is: above any host's `mmap_min_addr`, so that a window
/// at host address 0 can hold it.
const BASE: u64 = 0x10_0000;
const CODE: u64 = BASE + 0x1000;
const CODE_INSNS: u64 = 96;
const DATA: u64 = BASE + 0x8000;
const RAM: u64 = 0x10000;
/// Trap handlers start here (one instruction per trap code).
const VECTORS: u64 = CODE + 4 * (CODE_INSNS - 8);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn value(&mut self) -> u64 {
        match self.below(6) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => 1 << self.below(64),
            4 => self.below(64),
            _ => self.next(),
        }
    }
}

fn mix(_: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
    Ok(a.iter()
        .fold(0x9e37, |h, x| (h ^ x).rotate_left(13).wrapping_mul(3)))
}

/// Writes a register and traps on some inputs, as CSR helpers do.
fn poke(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
    if a[0] & 0x1f == 0x13 {
        return Err(Trap {
            code: 5,
            tval: cx.cpu.insns,
        });
    }
    cx.cpu.regs[NREGS - 1] = cx.cpu.regs[NREGS - 1].wrapping_add(a[0]) ^ cx.cpu.insns;
    Ok(cx.cpu.pc)
}

/// A `cpu` helper (FP arithmetic's kind): reads and writes
/// `CpuState::fp` only, traps on some inputs (not knowing the pc or
/// count), clears `fp.dirty` on others so that `FS_DIRTY` runs again.
/// Called directly by the JIT with up to five arguments.
fn fpop(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
    let h = a
        .iter()
        .fold(0x51ed, |h, x| (h ^ x).rotate_left(7).wrapping_mul(5));
    if h & 0x3f == 0x2a {
        return Err(Trap { code: 6, tval: h });
    }
    let fp = &mut cx.cpu.fp;
    fp.flags = fp.flags.rotate_left(3) ^ h as u32;
    if h & 4 != 0 {
        fp.dirty = false;
    }
    Ok(h ^ (fp.flags as u64) << 1 ^ fp.dirty as u64)
}

/// A `cpu` helper that does nothing while `fp.dirty` is set (the JIT
/// skips it inline); else sets it, or traps on some inputs.
fn fs_dirty(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
    if cx.cpu.fp.dirty {
        return Ok(0);
    }
    if a[0] & 0xf == 0x9 {
        return Err(Trap {
            code: 7,
            tval: a[0],
        });
    }
    cx.cpu.fp.dirty = true;
    cx.cpu.fp.flags ^= a[0] as u32;
    Ok(0)
}

static FPOP: [Helper; 7] = {
    const fn h(jit: crate::ir::HelperJit) -> Helper {
        Helper {
            name: "fpop",
            func: fpop,
            effects: HelperEffects::Cpu,
            jit,
        }
    }
    const fn d(f: crate::ir::DirectFn) -> crate::ir::HelperJit {
        crate::ir::HelperJit {
            direct: Some(f),
            skip_if: None,
            host_fp: None,
            fp_flags: None,
        }
    }
    [
        h(d(crate::direct_helper!(fpop, 0))),
        h(d(crate::direct_helper!(fpop, 1))),
        h(d(crate::direct_helper!(fpop, 2))),
        h(d(crate::direct_helper!(fpop, 3))),
        h(d(crate::direct_helper!(fpop, 4))),
        h(d(crate::direct_helper!(fpop, 5))),
        // More arguments than registers: the light trampoline.
        h(crate::ir::HelperJit::NONE),
    ]
};

static FS_DIRTY: Helper = Helper {
    name: "fs_dirty",
    func: fs_dirty,
    effects: HelperEffects::Cpu,
    jit: crate::ir::HelperJit {
        direct: Some(crate::direct_helper!(fs_dirty, 1)),
        skip_if: Some(crate::ir::FpFlag::Dirty),
        host_fp: None,
        fp_flags: None,
    },
};

/// Binary64 arithmetic with RISC-V's rules (rm 0-4 static, 7 dynamic,
/// others trap; flags accrue; FP state turns dirty): what the JIT's inline
/// host-FPU path ([`HostFp`](crate::ir::HostFp)) must reproduce exactly.
fn fp_arith(
    cx: &mut crate::engine::HelperCtx<'_, '_>,
    a: &[u64],
    op: fn(&mut crate::softfloat::Env, u64, u64) -> u64,
) -> Result<u64, Trap> {
    use crate::softfloat::{Env, Flags, Rounding};
    let fp = &mut cx.cpu.fp;
    let rm = if a[2] == 7 { fp.rm as u64 } else { a[2] };
    let rounding = match rm {
        0 => Rounding::NearestEven,
        1 => Rounding::TowardZero,
        2 => Rounding::Down,
        3 => Rounding::Up,
        4 => Rounding::NearestMaxMag,
        _ => return Err(Trap { code: 8, tval: rm }),
    };
    let mut e = Env::riscv().with_rounding(rounding);
    e.flags = Flags::from_bits(fp.flags as u8);
    let r = op(&mut e, a[0], a[1]);
    fp.flags |= e.flags.0 as u32;
    fp.dirty = true;
    Ok(r)
}

macro_rules! fp_helpers {
    ($($name:ident => $op:path, $host:ident;)*) => {
        $(fn $name(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
            fp_arith(cx, a, $op)
        })*
        static FP_ARITH: [Helper; 5] = [$(Helper {
            name: stringify!($name),
            func: $name,
            effects: HelperEffects::Cpu,
            jit: crate::ir::HelperJit {
                direct: Some(crate::direct_helper!($name, 3)),
                skip_if: None,
                host_fp: Some(crate::ir::HostFp {
                    op: crate::ir::HostFpOp::$host,
                    inexact: crate::softfloat::Flags::INEXACT.0 as u32,
                    rm: Some(crate::ir::HostRm {
                        arg: 2,
                        nearest: 0,
                        dynamic: 7,
                    }),
                }),
                fp_flags: None,
            },
        }),*];
    };
}

fn f64_sqrt(e: &mut crate::softfloat::Env, a: u64, _: u64) -> u64 {
    crate::softfloat::f64_sqrt(e, a)
}

fp_helpers! {
    fp_add => crate::softfloat::f64_add, Add;
    fp_sub => crate::softfloat::f64_sub, Sub;
    fp_mul => crate::softfloat::f64_mul, Mul;
    fp_div => crate::softfloat::f64_div, Div;
    fp_sqrt => f64_sqrt, Sqrt;
}

/// Comparisons with RISC-V's rules (feq quiet, flt/fle signalling): the
/// inline path's other kind.
fn fp_compare(
    cx: &mut crate::engine::HelperCtx<'_, '_>,
    a: &[u64],
    op: fn(&mut crate::softfloat::Env, u64, u64) -> bool,
) -> Result<u64, Trap> {
    use crate::softfloat::{Env, Flags};
    let fp = &mut cx.cpu.fp;
    let mut e = Env::riscv();
    e.flags = Flags::from_bits(fp.flags as u8);
    let r = op(&mut e, a[0], a[1]);
    fp.flags |= e.flags.0 as u32;
    fp.dirty = true;
    Ok(r as u64)
}

macro_rules! cmp_helpers {
    ($($name:ident => $op:path, $host:ident;)*) => {
        $(fn $name(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
            fp_compare(cx, a, $op)
        })*
        static FP_COMPARE: [Helper; 3] = [$(Helper {
            name: stringify!($name),
            func: $name,
            effects: HelperEffects::Cpu,
            jit: crate::ir::HelperJit {
                direct: Some(crate::direct_helper!($name, 2)),
                skip_if: None,
                host_fp: Some(crate::ir::HostFp {
                    op: crate::ir::HostFpOp::$host,
                    inexact: 0,
                    rm: None,
                }),
                fp_flags: None,
            },
        }),*];
    };
}

cmp_helpers! {
    fp_eq => crate::softfloat::f64_eq, Eq;
    fp_lt => crate::softfloat::f64_lt, Lt;
    fp_le => crate::softfloat::f64_le, Le;
}

/// Sets the FP status from its argument: flags (bits 0-4), dirty (bit
/// 5), dynamic rounding mode (bits 8-10; 5-7 make the dynamic mode trap).
fn fp_set(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
    let fp = &mut cx.cpu.fp;
    fp.flags = (a[0] & 0x1f) as u32;
    fp.dirty = a[0] & 0x20 != 0;
    // Mostly round to nearest even, which the inline path wants.
    fp.rm = match (a[0] >> 8) & 7 {
        0..=3 => 0,
        m => m as u32 - 3,
    };
    Ok(0)
}

static FP_SET: Helper = Helper {
    name: "fp_set",
    func: fp_set,
    effects: HelperEffects::Cpu,
    jit: crate::ir::HelperJit {
        direct: Some(crate::direct_helper!(fp_set, 1)),
        skip_if: None,
        host_fp: None,
        fp_flags: None,
    },
};

/// The accrued flags' CSR with RISC-V's rules, args (csr, value, cond,
/// off): CSR 1 is the flags, 2 the rounding mode, others trap; the FP
/// state must be on (here: dirty, or bit 0 of `off` clear); a write
/// makes it dirty. What the inline path ([`FpFlagsCsr`](crate::ir::FpFlagsCsr))
/// must reproduce while the state is dirty.
fn fp_flags_op(
    cx: &mut crate::engine::HelperCtx<'_, '_>,
    a: &[u64],
    op: crate::ir::FpFlagsOp,
) -> Result<u64, Trap> {
    use crate::ir::FpFlagsOp;
    let fp = &mut cx.cpu.fp;
    if !(1..=2).contains(&a[0]) {
        return Err(Trap {
            code: 9,
            tval: a[0],
        });
    }
    if !fp.dirty && a[3] & 1 != 0 {
        return Err(Trap {
            code: 10,
            tval: a[3],
        });
    }
    let old = if a[0] == 1 { fp.flags } else { fp.rm } as u64;
    let new = match op {
        FpFlagsOp::Swap => Some(a[1]),
        FpFlagsOp::Set => (a[2] != 0).then_some(old | a[1]),
        FpFlagsOp::Clear => (a[2] != 0).then_some(old & !a[1]),
    };
    if let Some(v) = new {
        if a[0] == 1 {
            fp.flags = (v & 0x1f) as u32;
        } else {
            // Modes 0-3: what the inline arithmetic's checks see.
            fp.rm = (v & 3) as u32;
        }
        fp.dirty = true;
    }
    Ok(if op == FpFlagsOp::Swap && a[2] == 0 {
        0
    } else {
        old
    })
}

macro_rules! fp_flags_helpers {
    ($($name:ident => $op:ident;)*) => {
        $(fn $name(cx: &mut crate::engine::HelperCtx<'_, '_>, a: &[u64]) -> Result<u64, Trap> {
            fp_flags_op(cx, a, crate::ir::FpFlagsOp::$op)
        })*
        static FP_FLAGS: [Helper; 3] = [$(Helper {
            name: stringify!($name),
            func: $name,
            effects: HelperEffects::Cpu,
            jit: crate::ir::HelperJit {
                direct: Some(crate::direct_helper!($name, 4)),
                skip_if: None,
                host_fp: None,
                fp_flags: Some(crate::ir::FpFlagsCsr {
                    op: crate::ir::FpFlagsOp::$op,
                    csr: 0,
                    flags_csr: 1,
                    value: 1,
                    cond: 2,
                    bits: 0x1f,
                }),
            },
        }),*];
    };
}

fp_flags_helpers! {
    fp_flags_swap => Swap;
    fp_flags_set => Set;
    fp_flags_clear => Clear;
}

/// Binary64 operands around where the host FPU's inline path must give
/// way to the helper: zeros, subnormals, the smallest normals, the
/// largest, infinities, NaNs, and values whose products and quotients
/// land there.
fn fp_operand(r: &mut Rng) -> u64 {
    const EXPS: [u64; 12] = [
        0, 1, 2, 3, 0x1ff, 0x200, 0x3ff, 0x5fe, 0x5ff, 0x7fd, 0x7fe, 0x7ff,
    ];
    let sign = r.below(2) << 63;
    let mant = match r.below(5) {
        0 => 0,
        1 => (1 << 52) - 1,
        2 => 1,
        3 => 1 << 51,
        _ => r.next() & ((1 << 52) - 1),
    };
    match r.below(8) {
        0 => r.next(),
        1 => sign | 0x3cb0_0000_0000_0000, // 2^-52: 1 + it is inexact
        _ => sign | EXPS[r.below(12) as usize] << 52 | mant,
    }
}

static MIX: Helper = Helper {
    name: "mix",
    func: mix,
    effects: HelperEffects::Pure,
    jit: crate::ir::HelperJit::NONE,
};
static POKE: Helper = Helper {
    name: "poke",
    func: poke,
    effects: HelperEffects::Full,
    jit: crate::ir::HelperJit::NONE,
};

struct RandomIsa {
    seed: u64,
    endian: Endian,
}

impl RandomIsa {
    fn temp_of(&self, r: &mut Rng, b: &mut IrBuilder, pool: &mut Vec<(Temp, Ty)>, ty: Ty) -> Temp {
        let have: Vec<Temp> = pool.iter().filter(|p| p.1 == ty).map(|p| p.0).collect();
        if !have.is_empty() && r.below(4) != 0 {
            return have[r.below(have.len() as u64) as usize];
        }
        let t = if r.below(2) == 0 {
            b.konst(ty, r.value())
        } else {
            b.read_reg(ty, RegId(r.below(NREGS as u64) as u16))
        };
        pool.push((t, ty));
        t
    }

    fn ty(r: &mut Rng) -> Ty {
        if r.below(2) == 0 {
            Ty::I32
        } else {
            Ty::I64
        }
    }

    /// A guest address: mostly inside the data area, sometimes in the
    /// code (self-modifying stores), misaligned, or unmapped.
    fn addr(&self, r: &mut Rng, b: &mut IrBuilder, pool: &mut Vec<(Temp, Ty)>) -> Temp {
        let x = self.temp_of(r, b, pool, Ty::I64);
        if r.below(10) == 0 {
            // A table lookup: base (in a temp, not a constant) plus a
            // scaled index, which x86-64 folds into the load's operand.
            let k = r.below(4);
            let m = b.konst(Ty::I64, 0xff8 >> k);
            let idx = b.bin(BinOp::And, Ty::I64, x, m);
            let kt = b.konst(Ty::I64, k);
            let off = b.bin(BinOp::Shl, Ty::I64, idx, kt);
            let y = self.temp_of(r, b, pool, Ty::I64);
            let zero = b.konst(Ty::I64, 0);
            let none = b.bin(BinOp::And, Ty::I64, y, zero);
            let data = b.konst(Ty::I64, DATA);
            let bs = b.bin(BinOp::Or, Ty::I64, none, data);
            return if r.below(2) == 0 {
                b.bin(BinOp::Add, Ty::I64, bs, off)
            } else {
                b.bin(BinOp::Add, Ty::I64, off, bs)
            };
        }
        if r.below(6) == 0 {
            // A base register plus a 12-bit offset, which direct accesses
            // fold; sometimes a base in unmapped low memory whose negative
            // offset wraps the address around zero.
            let m = b.konst(Ty::I64, 0xff8);
            let off = b.bin(BinOp::And, Ty::I64, x, m);
            let (base, d) = if r.below(8) == 0 {
                (off, -(r.below(2049) as i64))
            } else {
                let c = b.konst(Ty::I64, DATA + 0x800);
                (
                    b.bin(BinOp::Add, Ty::I64, off, c),
                    r.below(4096) as i64 - 2048,
                )
            };
            let dk = b.konst(Ty::I64, d as u64);
            return if r.below(2) == 0 {
                b.bin(BinOp::Add, Ty::I64, base, dk)
            } else {
                b.bin(BinOp::Add, Ty::I64, dk, base)
            };
        }
        let (mask, base) = match r.below(20) {
            0 => (0xff, CODE),
            1 => (0xfff, BASE + RAM - 0x800),
            _ => (0xff8, DATA),
        };
        let m = b.konst(Ty::I64, mask);
        let off = b.bin(BinOp::And, Ty::I64, x, m);
        let bs = b.konst(Ty::I64, base);
        b.bin(BinOp::Add, Ty::I64, off, bs)
    }

    fn op(&self, r: &mut Rng, b: &mut IrBuilder, pool: &mut Vec<(Temp, Ty)>) {
        const BINS: [BinOp; 17] = [
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::MulHs,
            BinOp::MulHu,
            BinOp::MulHsu,
            BinOp::DivS,
            BinOp::DivU,
            BinOp::RemS,
            BinOp::RemU,
            BinOp::And,
            BinOp::Or,
            BinOp::Xor,
            BinOp::Shl,
            BinOp::Shr,
            BinOp::Sar,
            BinOp::Rotr,
        ];
        const CONDS: [Cond; 10] = [
            Cond::Eq,
            Cond::Ne,
            Cond::Lt,
            Cond::Ge,
            Cond::Le,
            Cond::Gt,
            Cond::Ltu,
            Cond::Geu,
            Cond::Leu,
            Cond::Gtu,
        ];
        let ty = Self::ty(r);
        let t = match r.below(21) {
            0..=3 => {
                let a = self.temp_of(r, b, pool, ty);
                let c = self.temp_of(r, b, pool, ty);
                b.bin(BINS[r.below(BINS.len() as u64) as usize], ty, a, c)
            }
            4 => {
                let a = self.temp_of(r, b, pool, ty);
                if r.below(2) == 0 {
                    b.not(ty, a)
                } else {
                    b.neg(ty, a)
                }
            }
            5 => {
                let a = self.temp_of(r, b, pool, ty);
                let c = self.temp_of(r, b, pool, ty);
                let t = b.setcond(CONDS[r.below(10) as usize], ty, a, c);
                pool.push((t, Ty::I32));
                return;
            }
            6 => {
                let cty = Self::ty(r);
                let c = self.temp_of(r, b, pool, cty);
                let x = self.temp_of(r, b, pool, ty);
                let y = self.temp_of(r, b, pool, ty);
                b.select(ty, c, x, y)
            }
            7 => {
                let from = Self::ty(r);
                let s = self.temp_of(r, b, pool, from);
                let bits = [1, 7, 8, 12, 16, 31, 32, 63, 64][r.below(9) as usize];
                b.ext(ty, s, bits, r.below(2) == 0)
            }
            8 | 9 => {
                let a = self.addr(r, b, pool);
                let size = [1u8, 2, 4, 8][r.below(4) as usize];
                let mut mop = MemOp::new(size, r.below(2) == 0, self.endian);
                mop.aligned = r.below(3) != 0;
                b.load(ty, a, mop)
            }
            10 => {
                let a = self.addr(r, b, pool);
                let v = self.temp_of(r, b, pool, ty);
                let size = [1u8, 2, 4, 8][r.below(4) as usize];
                let mut mop = MemOp::new(size, false, self.endian);
                mop.aligned = r.below(3) != 0;
                b.store(a, v, mop);
                return;
            }
            11 => {
                let a = self.temp_of(r, b, pool, Ty::I64);
                let c = self.temp_of(r, b, pool, ty);
                let helper = if r.below(3) == 0 { &POKE } else { &MIX };
                b.call(helper, vec![a, c], Some(ty)).expect("result")
            }
            12 => {
                // Arguments of both types from anywhere (registers,
                // constants, slots): the direct call's parallel move.
                let n = r.below(7) as usize;
                let args = (0..n)
                    .map(|_| {
                        let t = Self::ty(r);
                        self.temp_of(r, b, pool, t)
                    })
                    .collect();
                b.call(&FPOP[n], args, Some(ty)).expect("result")
            }
            13 => {
                let a = self.temp_of(r, b, pool, Ty::I64);
                b.call(&FS_DIRTY, vec![a], None);
                return;
            }
            14 => {
                let v = r.below(1 << 11);
                let a = b.konst(Ty::I64, v);
                b.call(&FP_SET, vec![a], None);
                return;
            }
            15 | 16 => {
                // Mostly fresh edge-case operands; sometimes earlier
                // results or registers.
                let mut operand = |r: &mut Rng, b: &mut IrBuilder| {
                    if r.below(4) == 0 {
                        self.temp_of(r, b, pool, Ty::I64)
                    } else {
                        b.konst(Ty::I64, fp_operand(r))
                    }
                };
                // Or an operation whose rounded result just reaches the
                // smallest normal (tiny before rounding: underflow) or
                // overflows (add, sub, mul, div: 0-3).
                const EDGES: [(usize, u64, u64); 6] = [
                    (2, 0x0010_0000_0000_0000, 0x3fef_ffff_ffff_ffff),
                    (2, 0x001f_ffff_ffff_ffff, 0x3fe0_0000_0000_0000),
                    (3, 0x0010_0000_0000_0000, 0x3ff0_0000_0000_0001),
                    (2, 0x7fef_ffff_ffff_ffff, 0x3ff0_0000_0000_0001),
                    (0, 0x7fef_ffff_ffff_ffff, 0x7ca0_0000_0000_0000),
                    (1, 0x0020_0000_0000_0000, 0x0010_0000_0000_0001),
                ];
                let (k, x, y) = if r.below(4) == 0 {
                    let (k, x, y) = EDGES[r.below(6) as usize];
                    let s = r.below(2) << 63;
                    (k, b.konst(Ty::I64, x ^ s), b.konst(Ty::I64, y ^ s))
                } else {
                    (r.below(4) as usize, operand(r, b), operand(r, b))
                };
                let rm = b.konst(Ty::I64, [0, 7, 7, 7, 1, 3, 5][r.below(7) as usize]);
                let t = if r.below(4) == 0 {
                    let h = &FP_COMPARE[r.below(3) as usize];
                    b.call(h, vec![x, y], Some(Self::ty(r))).expect("result")
                } else {
                    // Square roots of the second operand: of edge values
                    // when fresh (its first is an earlier result).
                    let (h, x) = if r.below(5) == 0 {
                        (&FP_ARITH[4], y)
                    } else {
                        (&FP_ARITH[k], x)
                    };
                    b.call(h, vec![x, y, rm], Some(Ty::I64)).expect("result")
                };
                pool.push((t, Ty::I64));
                // Results to registers, where the comparison sees them.
                let reg = RegId(r.below(NREGS as u64) as u16);
                b.write_reg(reg, t);
                return;
            }
            18 if r.below(2) == 0 => {
                // A RISC-V W-op chain: 64-bit ops whose results only an
                // extension from 32 bits (or a 32-bit op, a small store)
                // reads, which `low32` narrows.
                let (mut x, mut xty) = (self.temp_of(r, b, pool, Ty::I64), Ty::I64);
                for _ in 0..1 + r.below(3) {
                    let y = self.temp_of(r, b, pool, Ty::I64);
                    let t = b.bin(BINS[r.below(BINS.len() as u64) as usize], Ty::I64, x, y);
                    (x, xty) = match r.below(4) {
                        0 => (t, Ty::I64),
                        1 => {
                            // The 32-bit ops that may read a 64-bit
                            // temp (its low half; see `Op::Bin`).
                            const WORD: [BinOp; 6] = [
                                BinOp::Add,
                                BinOp::Sub,
                                BinOp::Mul,
                                BinOp::And,
                                BinOp::Or,
                                BinOp::Xor,
                            ];
                            let z = self.temp_of(r, b, pool, Ty::I32);
                            let o = WORD[r.below(6) as usize];
                            (b.bin(o, Ty::I32, t, z), Ty::I32)
                        }
                        _ => {
                            let bits = [32, 32, 16, 8][r.below(4) as usize];
                            (b.ext(Ty::I64, t, bits, r.below(3) != 0), Ty::I64)
                        }
                    };
                }
                if r.below(4) == 0 {
                    let a = self.addr(r, b, pool);
                    let size = [1u8, 2, 4][r.below(3) as usize];
                    b.store(a, x, MemOp::new(size, false, self.endian));
                    return;
                }
                match (xty, ty) {
                    (Ty::I32, Ty::I64) => b.ext(Ty::I64, x, 32, r.below(2) == 0),
                    (Ty::I64, Ty::I32) => b.ext(Ty::I32, x, 32, false),
                    (Ty::I64, _) => b.ext(Ty::I64, x, 32, true),
                    _ => x,
                }
            }
            17 if r.below(3) == 0 => {
                // The flags' CSR: mostly inline (CSR 1, constant
                // condition), else the call (another CSR, a CSR or
                // condition in a temp, FP state not dirty).
                let h = &FP_FLAGS[r.below(3) as usize];
                let mut arg = |r: &mut Rng, b: &mut IrBuilder, consts: &[u64]| {
                    if r.below(16) == 0 {
                        self.temp_of(r, b, pool, Ty::I64)
                    } else {
                        b.konst(Ty::I64, consts[r.below(consts.len() as u64) as usize])
                    }
                };
                let csr = arg(r, b, &[1, 1, 1, 1, 1, 1, 1, 2, 2, 0]);
                let value = arg(r, b, &[0, 1, 0x1f, 0x15, 0xffff_fff3]);
                let cond = arg(r, b, &[0, 5, 1]);
                let off = arg(r, b, &[0, 0, 0, 1]);
                b.call(h, vec![csr, value, cond, off], Some(ty))
                    .expect("result")
            }
            _ => {
                let reg = RegId(r.below(NREGS as u64) as u16);
                let v = self.temp_of(r, b, pool, ty);
                b.write_reg(reg, v);
                return;
            }
        };
        pool.push((t, ty));
    }
}

impl CpuModel for RandomIsa {
    fn target(&self) -> String {
        "random".into()
    }
    fn isa_name(&self) -> &'static str {
        "random"
    }
    fn word_bits(&self) -> u32 {
        64
    }
    fn endian(&self) -> Endian {
        self.endian
    }
    fn insn_len_range(&self) -> (usize, usize) {
        (4, 4)
    }
    fn reg_files(&self) -> Vec<RegFile> {
        Vec::new()
    }
    fn new_state(&self, index: u32) -> CpuState {
        CpuState::new(index, NREGS)
    }
    fn reset(&self, st: &mut CpuState, boot: &BootInfo) {
        st.pc = boot.entry;
    }
    fn lift(&self, _: &[u8], pc: u64, b: &mut IrBuilder) -> Result<Lifted, DecodeError> {
        let mut r = Rng(self.seed ^ pc.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut pool = Vec::new();
        let n = 1 + r.below(6);
        for _ in 0..n {
            if r.below(8) == 0 {
                // A forward branch over a few ops.
                let a = self.temp_of(&mut r, b, &mut pool, Ty::I64);
                let c = self.temp_of(&mut r, b, &mut pool, Ty::I64);
                let l = b.label();
                b.brcond(Cond::Ltu, Ty::I64, a, c, l);
                // Temps defined in the skipped part must not be used after.
                let mut inner = pool.clone();
                for _ in 0..1 + r.below(3) {
                    self.op(&mut r, b, &mut inner);
                }
                b.set_label(l);
            } else {
                self.op(&mut r, b, &mut pool);
            }
        }
        let next = pc + 4;
        let ends = match r.below(10) {
            0 => {
                // Indirect: somewhere in the code.
                let x = self.temp_of(&mut r, b, &mut pool, Ty::I64);
                let m = b.konst(Ty::I64, (CODE_INSNS - 1) * 4);
                let off = b.bin(BinOp::And, Ty::I64, x, m);
                let base = b.konst(Ty::I64, CODE);
                let t = b.bin(BinOp::Add, Ty::I64, off, base);
                b.exit_indirect(t);
                true
            }
            1 => {
                // A conditional direct branch.
                let x = self.temp_of(&mut r, b, &mut pool, Ty::I32);
                let zero = b.konst(Ty::I32, 0);
                let l = b.label();
                b.brcond(Cond::Eq, Ty::I32, x, zero, l);
                b.exit_direct(CODE + 4 * r.below(CODE_INSNS));
                b.set_label(l);
                b.exit_direct(next);
                true
            }
            2 | 3 if r.below(2) == 0 => {
                // A loop: a conditional branch a few instructions back,
                // often to the start of the block being translated
                // (which the JIT then runs in place, `loops`).
                let x = self.temp_of(&mut r, b, &mut pool, Ty::I32);
                let m = b.konst(Ty::I32, 7);
                let y = b.bin(BinOp::And, Ty::I32, x, m);
                let zero = b.konst(Ty::I32, 0);
                let l = b.label();
                b.brcond(Cond::Eq, Ty::I32, y, zero, l);
                b.exit_direct(pc.saturating_sub(4 * r.below(4)).max(CODE));
                b.set_label(l);
                b.exit_direct(next);
                true
            }
            2 if r.below(3) == 0 => {
                let v = self.temp_of(&mut r, b, &mut pool, Ty::I64);
                b.raise(3, v);
                true
            }
            _ => false,
        };
        Ok(Lifted {
            len: 4,
            ends_block: ends,
            delayed: None,
        })
    }
    fn disassemble(&self, _: &[u8], _: u64) -> Result<(String, usize), DecodeError> {
        Err(DecodeError::Invalid)
    }
    fn fault_trap(&self, f: &MemFault) -> Trap {
        Trap {
            code: 1,
            tval: f.addr,
        }
    }
    fn illegal_trap(&self, _: &[u8]) -> Trap {
        Trap { code: 2, tval: 0 }
    }
    fn take_trap(&self, st: &mut CpuState, t: &Trap) -> TrapOutcome {
        st.regs[NREGS - 2] = st.regs[NREGS - 2].wrapping_add(t.code as u64 ^ t.tval ^ st.pc);
        st.pc = VECTORS + 4 * t.code as u64;
        TrapOutcome::Handled
    }
    fn trap_name(&self, _: u32) -> &'static str {
        "trap"
    }
}

struct World {
    mem: Memory,
    space: AddressSpace,
    cpu: CpuState,
    cache: TranslationCache,
}

fn world(model: &RandomIsa, seed: u64) -> World {
    world_in(model, seed, Addressing::Tlb)
}

/// A window at host address 0, waiting up to 10 s for other tests of
/// this process that hold the one there is; None when the range stays
/// taken (under qemu-user, the emulator's own mappings are there).
fn zero_window() -> Option<std::sync::Arc<crate::window::Window>> {
    for _ in 0..200 {
        if let Some(w) = crate::window::Window::reserve_at_zero(1 << 32) {
            return Some(w);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// A world whose RAM is on the heap (`Addressing::Tlb`), or in a guest
/// address window as a user-mode process's is (`Memory::window`), at
/// host address 0 or not.
fn world_in(model: &RandomIsa, seed: u64, addressing: Addressing) -> World {
    let w = match addressing {
        Addressing::Tlb => None,
        // Guest addresses up to 4 GiB: random accesses beyond the RAM
        // must be refused by the TLB, not reach the reservation.
        Addressing::Window => {
            Some(crate::window::Window::reserve_anywhere(1 << 32).expect("window"))
        }
        Addressing::Identity => Some(zero_window().expect("a window at host address 0")),
    };
    world_with(model, seed, w)
}

/// A world with its RAM in window `w`, if any.
fn world_with(
    model: &RandomIsa,
    seed: u64,
    w: Option<std::sync::Arc<crate::window::Window>>,
) -> World {
    let mut mem = Memory::default();
    if let Some(w) = w {
        mem.ram
            .push(RamBlock::new_at("/ram", Some(&w), BASE, RAM).unwrap());
        mem.window = Some(w.base());
        mem.window_size = w.size();
        assert_eq!(
            mem.ram[0].bytes().as_ptr() as u64,
            w.base() + BASE,
            "the RAM sits in the window"
        );
    } else {
        mem.ram.push(RamBlock::new("/ram", RAM, false).unwrap());
    }
    let mut space = AddressSpace::new("sys");
    space
        .map(Region {
            name: "ram".into(),
            base: BASE,
            size: RAM,
            target: Target::Ram {
                block: 0,
                offset: 0,
            },
        })
        .unwrap();
    let mut r = Rng(seed | 1);
    let data = (DATA - BASE) as usize;
    let bytes: Vec<u8> = (0..0x1000).map(|_| r.next() as u8).collect();
    assert!(mem.ram[0].store_bytes(data, &bytes, &mut |_| {}));
    let mut cpu = model.new_state(0);
    for x in cpu.regs.iter_mut() {
        *x = r.value();
    }
    cpu.pc = CODE;
    World {
        mem,
        space,
        cpu,
        cache: TranslationCache::new(),
    }
}

fn run(engine: &mut dyn Engine, model: &RandomIsa, w: &mut World, budget: u64) {
    let mut bus = Bus {
        space: &w.space,
        mem: &mut w.mem,
    };
    // Several slices, as the machine's scheduler runs them.
    let mut left = budget;
    while left > 0 {
        let slice = left.min(97);
        let before = w.cpu.insns;
        let exit = engine.run(
            ExecCtx {
                model,
                cache: &mut w.cache,
                cpu: &mut w.cpu,
                bus: &mut bus,
            },
            slice,
        );
        assert!(
            matches!(exit, Exit::Budget),
            "unexpected exit {exit:?} at pc {:#x}",
            w.cpu.pc
        );
        left = left.saturating_sub((w.cpu.insns - before).max(1));
    }
}

fn compare(seed: u64, endian: Endian) -> JitStats {
    compare_jit(seed, endian, Jit::new().expect("jit"), Addressing::Tlb)
}

/// `compare` with a given JIT (a backend configured for a test), its RAM
/// in a guest address window or not.
fn compare_jit(seed: u64, endian: Endian, mut jit: Jit, addressing: Addressing) -> JitStats {
    let model = RandomIsa { seed, endian };
    let budget = 3000;
    let mut oracle = world(&model, seed);
    let mut interp = Interpreter::new();
    run(&mut interp, &model, &mut oracle, budget);

    let mut w = world_in(&model, seed, addressing);
    run(&mut jit, &model, &mut w, budget);
    let ctx = format!("seed {seed:#x} {endian}");
    assert_eq!(w.cpu.pc, oracle.cpu.pc, "{ctx}: pc");
    assert_eq!(w.cpu.insns, oracle.cpu.insns, "{ctx}: retired");
    assert_eq!(w.cpu.fp, oracle.cpu.fp, "{ctx}: FP status");
    for i in 0..NREGS {
        assert_eq!(
            w.cpu.regs[i], oracle.cpu.regs[i],
            "{ctx}: r{i} (jit {:#x}, interp {:#x})",
            w.cpu.regs[i], oracle.cpu.regs[i]
        );
    }
    assert!(
        w.mem.ram[0].bytes() == oracle.mem.ram[0].bytes(),
        "{ctx}: memory differs"
    );
    assert!(jit.stats.compiled > 0, "{ctx}: nothing compiled");
    // Every random block is compilable: a backend that gave up (an
    // assembler error, say) would otherwise pass by interpreting.
    assert_eq!(
        jit.stats.interpreted, 0,
        "{ctx}: blocks left to the interpreter"
    );
    jit.stats
}

#[test]
fn random_blocks_agree_with_the_interpreter() {
    let n: u64 = std::env::var("HEMU_JIT_FUZZ_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut looped = 0;
    for seed in 1..=n {
        let endian = if seed % 3 == 0 {
            Endian::Big
        } else {
            Endian::Little
        };
        looped += compare(seed.wrapping_mul(0x1234_5678_9abc_def1), endian).looped;
    }
    // The loops the random ISA makes do reach `loops`.
    assert!(looped > n, "only {looped} blocks looped in place");
}

#[test]
fn random_blocks_agree_with_the_interpreter_in_a_window() {
    // Generated code for a window adds the window base instead of the
    // TLB entry's addend, or nothing for a window at 0; the interpreter
    // runs on the heap.
    for addressing in [Addressing::Window, Addressing::Identity] {
        if addressing == Addressing::Identity {
            match zero_window() {
                Some(w) => drop(w),
                None => {
                    eprintln!(
                        "SKIP: random blocks at identity addressing: host addresses \
                         from 0 stay taken (qemu-user's own mappings)"
                    );
                    continue;
                }
            }
        }
        for seed in 1..=100u64 {
            let endian = if seed % 3 == 0 {
                Endian::Big
            } else {
                Endian::Little
            };
            let jit = Jit::new().expect("jit");
            let seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            compare_jit(seed, endian, jit, addressing);
        }
    }
}

#[test]
fn optimised_ir_agrees_with_the_original() {
    // The JIT above runs optimised IR; here the interpreter runs both.
    for seed in 1..=200u64 {
        let model = RandomIsa {
            seed: seed * 77,
            endian: Endian::Little,
        };
        let mut a = world(&model, seed);
        let mut b = world(&model, seed);
        let mut plain = Interpreter::new();
        run(&mut plain, &model, &mut a, 1000);
        let mut opt_interp = OptInterp(Interpreter::new());
        run(&mut opt_interp, &model, &mut b, 1000);
        assert_eq!(a.cpu.regs, b.cpu.regs, "seed {seed}");
        assert_eq!(
            (a.cpu.pc, a.cpu.insns),
            (b.cpu.pc, b.cpu.insns),
            "seed {seed}"
        );
        assert!(a.mem.ram[0].bytes() == b.mem.ram[0].bytes(), "seed {seed}");
    }
}

/// The interpreter over optimised blocks: translate through the cache
/// with the optimiser applied, then interpret.
struct OptInterp(Interpreter);

impl Engine for OptInterp {
    fn name(&self) -> &'static str {
        "opt-interp"
    }
    fn run(&mut self, cx: ExecCtx<'_, '_>, budget: u64) -> Exit {
        // The interpreter's loop, with the optimiser applied to each
        // block it translates.
        let ExecCtx {
            model,
            cache,
            cpu,
            bus,
        } = cx;
        let start = cpu.insns;
        let mut traps = 0;
        loop {
            if cpu.insns - start + traps >= budget {
                return Exit::Budget;
            }
            let b = match cache.get(cpu.pc, cpu.code_ctx) {
                Some(b) => b,
                None => {
                    let pc = cpu.pc;
                    let (block, g) = crate::engine::translate(model, cpu, bus, pc, 64);
                    cache.insert(crate::engine::CachedBlock::new(opt::optimize(block), g), 0)
                }
            };
            let seen = bus.mem.code_writes.len();
            if let Some(t) = self.0.exec_block(&b, model, cpu, bus) {
                traps += 1;
                model.take_trap(cpu, &t);
            }
            for g in bus.mem.code_writes[seen..].iter().copied() {
                cache.invalidate(g);
            }
        }
    }
}

#[test]
fn jit_respects_small_budgets_exactly() {
    let model = RandomIsa {
        seed: 42,
        endian: Endian::Little,
    };
    for budget in [1, 2, 3, 10, 64, 65] {
        let mut a = world(&model, 1);
        let mut b = world(&model, 1);
        run(&mut Interpreter::new(), &model, &mut a, budget);
        run(&mut Jit::new().unwrap(), &model, &mut b, budget);
        assert_eq!(a.cpu.insns, b.cpu.insns, "budget {budget}");
        assert_eq!(a.cpu.regs, b.cpu.regs, "budget {budget}");
    }
}

/// Every backend this build has assembles every block the random ISA
/// produces, whatever the host: the aarch64 backend's encodings (operand
/// ranges, immediates, branch distances) are checked on x86-64 too, where
/// it cannot run.
#[test]
fn every_backend_assembles_random_blocks() {
    let backends: Vec<Box<dyn Backend>> = vec![
        Box::new(aarch64::Aarch64),
        Box::new(aarch64::FewRegs),
        #[cfg(target_arch = "x86_64")]
        Box::new(x64::X64),
        #[cfg(target_arch = "x86_64")]
        Box::new(x64::FewRegs),
    ];
    // Where the code would go: the runtime code first, as in a real JIT.
    let base = 0x7f00_0000_0000usize;
    for be in &backends {
        let (_, rt) = be.runtime(base).expect("runtime code");
        for seed in 1..=60u64 {
            let endian = if seed % 2 == 0 {
                Endian::Big
            } else {
                Endian::Little
            };
            let model = RandomIsa {
                seed: seed.wrapping_mul(0x2545_f491),
                endian,
            };
            let mut w = world(&model, seed);
            let mut bus = Bus {
                space: &w.space,
                mem: &mut w.mem,
            };
            for k in 0..CODE_INSNS {
                let pc = CODE + 4 * k;
                let (block, _) = crate::engine::translate(
                    &model,
                    &mut w.cpu,
                    &mut bus,
                    pc,
                    crate::engine::MAX_BLOCK_INSNS,
                );
                let block = opt::optimize(block);
                let block = loops::keep_in_registers(&block, be.temp_registers(Addressing::Tlb))
                    .unwrap_or(block);
                let nexits = block
                    .ops
                    .iter()
                    .filter(|o| matches!(o, Op::ExitDirect { .. }))
                    .count();
                let slots: Vec<usize> = (0..nexits).map(|i| 0x5555_0000_1000 + 8 * i).collect();
                let req = CompileRequest {
                    block: &block,
                    id: k as u32,
                    base: base + 0x10_0000 + 0x1000 * k as usize,
                    epilogue: rt.epilogue,
                    slots: &slots,
                    site_base: 1000,
                    addressing: Addressing::Tlb,
                    direct_access: false,
                };
                let c = be
                    .compile(&req)
                    .unwrap_or_else(|e| panic!("{}: seed {seed} pc {pc:#x}: {e:?}", be.name()));
                assert_eq!(c.stubs.len(), nexits, "{}", be.name());
                assert_eq!(c.targets.len(), nexits, "{}", be.name());
            }
        }
    }
}

/// The aarch64 backend with two temp registers: most temps spill, and the
/// caller-saved one is saved around calls whenever it is live.
#[cfg(target_arch = "aarch64")]
#[test]
fn aarch64_spilling_agrees_with_the_interpreter() {
    for seed in 1..=100u64 {
        let endian = if seed % 3 == 0 {
            Endian::Big
        } else {
            Endian::Little
        };
        let jit = Jit::with_backend(Box::new(aarch64::FewRegs), 16 << 20).expect("jit");
        compare_jit(
            seed.wrapping_mul(0x0fed_cba9_8765_4321),
            endian,
            jit,
            [Addressing::Tlb, Addressing::Window][seed as usize % 2],
        );
    }
}

/// The x86-64 backend with two temp registers: most temps spill (to stack
/// slots, or to their guest registers' slots), and the caller-saved one is
/// saved around calls whenever it is live.
#[cfg(target_arch = "x86_64")]
#[test]
fn x64_spilling_agrees_with_the_interpreter() {
    let identity = zero_window().is_some();
    for seed in 1..=150u64 {
        let endian = if seed % 3 == 0 {
            Endian::Big
        } else {
            Endian::Little
        };
        let jit = Jit::with_backend(Box::new(x64::FewRegs), 16 << 20).expect("jit");
        let addressing = match seed % 3 {
            0 => Addressing::Tlb,
            1 => Addressing::Window,
            _ if identity => Addressing::Identity,
            _ => Addressing::Tlb,
        };
        compare_jit(
            seed.wrapping_mul(0x0fed_cba9_8765_4321),
            endian,
            jit,
            addressing,
        );
    }
    if !identity {
        eprintln!("SKIP: identity addressing with two registers: host address 0 is taken");
    }
}

/// The differential tests above run the backend of the host they run on
/// (x86-64 natively, aarch64 under qemu-aarch64 in `cargo xtask test`).
#[test]
fn the_host_backend_is_the_hosts() {
    let name = host_backend().map(|b| b.name());
    #[cfg(target_arch = "x86_64")]
    assert_eq!(name, Some("x86-64"));
    #[cfg(target_arch = "aarch64")]
    assert_eq!(name, Some("aarch64"));
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    assert_eq!(name, None);
}
