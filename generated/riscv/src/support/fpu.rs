//! The F and D helpers: RISC-V's floating-point rules around the
//! `hemu-softfloat` library — mstatus.FS gating, rounding-mode resolution,
//! NaN boxing of single-precision values in 64-bit registers, fflags
//! accrual, canonical NaNs and the saturating conversions.

use super::csr::{rv, sync_fp, FS};
use super::trap::illegal;
use hemu_runtime::cpu::CpuState;
use hemu_runtime::cpu::Trap;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::softfloat as sf;

type R = Result<u64, Trap>;

// The hot paths use `CpuState::fp` (fflags, frm and a copy of FS), not
// the RISC-V state behind `CpuState::ext`: that is a downcast, a virtual
// call and a store-forwarding stall, once a helper cost a quarter of a
// floating-point benchmark.

/// FS must be on. The copy in `CpuState::fp` may lag behind only as
/// "off", so "off" is checked against mstatus itself.
fn fs_enabled(st: &mut CpuState, insn: u64) -> Result<(), Trap> {
    if st.fp.on {
        return Ok(());
    }
    if rv(st).mstatus & FS == 0 {
        return Err(illegal(insn));
    }
    sync_fp(st);
    Ok(())
}

/// An FP environment for one instruction: FS must be on and the rounding
/// mode valid (rm = 7 selects frm; 5, 6 and an invalid frm are illegal).
fn env(cx: &mut HelperCtx<'_, '_>, rm: u64, insn: u64) -> Result<sf::Env, Trap> {
    fs_enabled(cx.cpu, insn)?;
    let fp = cx.cpu.fp;
    let rm = if rm == 7 { fp.rm as u64 } else { rm };
    let rounding = match rm {
        0 => sf::Rounding::NearestEven,
        1 => sf::Rounding::TowardZero,
        2 => sf::Rounding::Down,
        3 => sf::Rounding::Up,
        4 => sf::Rounding::NearestMaxMag,
        _ => return Err(illegal(insn)),
    };
    // Start from the accrued flags (`done` ORs them back, so this changes
    // nothing) so softfloat can use the host FPU once inexact is accrued.
    let mut e = sf::Env::riscv().with_rounding(rounding);
    e.flags = sf::Flags::from_bits(fp.flags as u8);
    Ok(e)
}

/// FS must be on; then mark the FP state dirty.
fn check_and_dirty(cx: &mut HelperCtx<'_, '_>, insn: u64) -> Result<(), Trap> {
    fs_enabled(cx.cpu, insn)?;
    dirty(cx);
    Ok(())
}

/// FS must be on (moves and loads, which neither round nor raise flags).
fn check(cx: &mut HelperCtx<'_, '_>, insn: u64) -> Result<(), Trap> {
    fs_enabled(cx.cpu, insn)
}

/// Accrue flags and mark the FP state dirty.
fn done(cx: &mut HelperCtx<'_, '_>, e: &sf::Env) {
    cx.cpu.fp.flags |= e.flags.0 as u32;
    dirty(cx);
}

/// Mark the FP state dirty (mstatus.FS = Dirty).
fn dirty(cx: &mut HelperCtx<'_, '_>) {
    if !cx.cpu.fp.dirty {
        rv(cx.cpu).mstatus |= FS;
        cx.cpu.fp.dirty = true;
    }
}

/// A single-precision value from a register: improperly boxed values read
/// as the canonical NaN.
fn unbox(v: u64) -> u32 {
    if v >> 32 == 0xffff_ffff {
        v as u32
    } else {
        0x7fc0_0000
    }
}

fn boxed(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | v as u64
}

fn xlen(cx: &mut HelperCtx<'_, '_>) -> u32 {
    rv(cx.cpu).xlen
}

/// Sign-extend a 32-bit integer result to the register width.
fn sext32(v: u32) -> u64 {
    v as i32 as i64 as u64
}

/// `f*.s`/`f*.d` two-operand arithmetic: args (a, b, rm, insn).
fn arith2<T>(
    cx: &mut HelperCtx<'_, '_>,
    a: &[u64],
    un: fn(u64) -> T,
    op: fn(&mut sf::Env, T, T) -> T,
    bx: fn(T) -> u64,
) -> R {
    let mut e = env(cx, a[2], a[3])?;
    let r = op(&mut e, un(a[0]), un(a[1]));
    done(cx, &e);
    Ok(bx(r))
}

fn arith3<T>(
    cx: &mut HelperCtx<'_, '_>,
    a: &[u64],
    un: fn(u64) -> T,
    op: fn(&mut sf::Env, T, T, T) -> T,
    bx: fn(T) -> u64,
) -> R {
    let mut e = env(cx, a[3], a[4])?;
    let r = op(&mut e, un(a[0]), un(a[1]), un(a[2]));
    done(cx, &e);
    Ok(bx(r))
}

fn d(v: u64) -> u64 {
    v
}

macro_rules! helpers2 {
    ($($name:ident => $un:ident, $op:path, $bx:ident;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: args (a, b, rm, insn).")]
        pub fn $name(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
            arith2(cx, a, $un, $op, $bx)
        }
    )*};
}

macro_rules! helpers3 {
    ($($name:ident => $un:ident, $op:path, $bx:ident;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: args (a, b, c, rm, insn).")]
        pub fn $name(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
            arith3(cx, a, $un, $op, $bx)
        }
    )*};
}

helpers2! {
    fadd_s => unbox, sf::f32_add, boxed;
    fsub_s => unbox, sf::f32_sub, boxed;
    fmul_s => unbox, sf::f32_mul, boxed;
    fdiv_s => unbox, sf::f32_div, boxed;
    fmin_s => unbox, sf::f32_min_num, boxed;
    fmax_s => unbox, sf::f32_max_num, boxed;
    fadd_d => d, sf::f64_add, d;
    fsub_d => d, sf::f64_sub, d;
    fmul_d => d, sf::f64_mul, d;
    fdiv_d => d, sf::f64_div, d;
    fmin_d => d, sf::f64_min_num, d;
    fmax_d => d, sf::f64_max_num, d;
}

helpers3! {
    fmadd_s => unbox, sf::f32_fmadd, boxed;
    fmsub_s => unbox, sf::f32_fmsub, boxed;
    fnmsub_s => unbox, sf::f32_fnmsub, boxed;
    fnmadd_s => unbox, sf::f32_fnmadd, boxed;
    fmadd_d => d, sf::f64_fmadd, d;
    fmsub_d => d, sf::f64_fmsub, d;
    fnmsub_d => d, sf::f64_fnmsub, d;
    fnmadd_d => d, sf::f64_fnmadd, d;
}

/// `fsqrt.s`: args (a, rm, insn).
pub fn fsqrt_s(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let mut e = env(cx, a[1], a[2])?;
    let r = sf::f32_sqrt(&mut e, unbox(a[0]));
    done(cx, &e);
    Ok(boxed(r))
}

/// `fsqrt.d`: args (a, rm, insn).
pub fn fsqrt_d(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let mut e = env(cx, a[1], a[2])?;
    let r = sf::f64_sqrt(&mut e, a[0]);
    done(cx, &e);
    Ok(r)
}

/// Sign injection: `kind` 0 = fsgnj, 1 = fsgnjn, 2 = fsgnjx.
fn sgnj(a: u64, b: u64, sign: u64, kind: u8) -> u64 {
    let s = match kind {
        0 => b & sign,
        1 => !b & sign,
        _ => (a ^ b) & sign,
    };
    (a & !sign) | s
}

macro_rules! sgnj_helpers {
    ($($name:ident => $kind:expr, $single:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: args (a, b, 0, insn); no flags, no NaN changes.")]
        pub fn $name(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
            check(cx, a[3])?;
            dirty(cx);
            Ok(if $single {
                boxed(sgnj(unbox(a[0]) as u64, unbox(a[1]) as u64, 1 << 31, $kind) as u32)
            } else {
                sgnj(a[0], a[1], 1 << 63, $kind)
            })
        }
    )*};
}

sgnj_helpers! {
    fsgnj_s => 0, true;
    fsgnjn_s => 1, true;
    fsgnjx_s => 2, true;
    fsgnj_d => 0, false;
    fsgnjn_d => 1, false;
    fsgnjx_d => 2, false;
}

macro_rules! cmp_helpers {
    ($($name:ident => $un:ident, $op:path;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: args (a, b, insn); 1 or 0.")]
        pub fn $name(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
            let mut e = env(cx, 0, a[2])?;
            let r = $op(&mut e, $un(a[0]), $un(a[1]));
            done(cx, &e);
            Ok(r as u64)
        }
    )*};
}

cmp_helpers! {
    feq_s => unbox, sf::f32_eq;
    flt_s => unbox, sf::f32_lt;
    fle_s => unbox, sf::f32_le;
    feq_d => d, sf::f64_eq;
    flt_d => d, sf::f64_lt;
    fle_d => d, sf::f64_le;
}

/// `fclass.s`: args (a, insn).
pub fn fclass_s(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[1])?;
    Ok(sf::f32_classify(&sf::Env::riscv(), unbox(a[0])) as u64)
}

/// `fclass.d`: args (a, insn).
pub fn fclass_d(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[1])?;
    Ok(sf::f64_classify(&sf::Env::riscv(), a[0]) as u64)
}

macro_rules! to_int {
    ($($name:ident => $un:ident, $op:path, $ext:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: args (a, rm, insn).")]
        pub fn $name(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
            let mut e = env(cx, a[1], a[2])?;
            let rm = e.rounding;
            let r = $op(&mut e, $un(a[0]), rm);
            done(cx, &e);
            Ok($ext(r))
        }
    )*};
}

to_int! {
    fcvt_w_s => unbox, sf::f32_to_i32, |v: i32| v as i64 as u64;
    fcvt_wu_s => unbox, sf::f32_to_u32, |v: u32| sext32(v);
    fcvt_l_s => unbox, sf::f32_to_i64, |v: i64| v as u64;
    fcvt_lu_s => unbox, sf::f32_to_u64, |v: u64| v;
    fcvt_w_d => d, sf::f64_to_i32, |v: i32| v as i64 as u64;
    fcvt_wu_d => d, sf::f64_to_u32, |v: u32| sext32(v);
    fcvt_l_d => d, sf::f64_to_i64, |v: i64| v as u64;
    fcvt_lu_d => d, sf::f64_to_u64, |v: u64| v;
}

macro_rules! from_int {
    ($($name:ident => $arg:expr, $op:path, $bx:ident;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: args (x, rm, insn).")]
        pub fn $name(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
            let mut e = env(cx, a[1], a[2])?;
            let r = $op(&mut e, $arg(a[0]));
            done(cx, &e);
            Ok($bx(r))
        }
    )*};
}

from_int! {
    fcvt_s_w => |v: u64| v as i32, sf::i32_to_f32, boxed;
    fcvt_s_wu => |v: u64| v as u32, sf::u32_to_f32, boxed;
    fcvt_s_l => |v: u64| v as i64, sf::i64_to_f32, boxed;
    fcvt_s_lu => |v: u64| v, sf::u64_to_f32, boxed;
    fcvt_d_w => |v: u64| v as i32, sf::i32_to_f64, d;
    fcvt_d_wu => |v: u64| v as u32, sf::u32_to_f64, d;
    fcvt_d_l => |v: u64| v as i64, sf::i64_to_f64, d;
    fcvt_d_lu => |v: u64| v, sf::u64_to_f64, d;
}

/// `fcvt.s.d`: args (a, rm, insn).
pub fn fcvt_s_d(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let mut e = env(cx, a[1], a[2])?;
    let r = sf::f64_to_f32(&mut e, a[0]);
    done(cx, &e);
    Ok(boxed(r))
}

/// `fcvt.d.s`: args (a, rm, insn).
pub fn fcvt_d_s(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let mut e = env(cx, a[1], a[2])?;
    let r = sf::f32_to_f64(&mut e, unbox(a[0]));
    done(cx, &e);
    Ok(r)
}

/// `fmv.x.w`: args (a, insn): the low 32 bits, sign-extended.
pub fn fmv_x_w(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[1])?;
    let v = sext32(a[0] as u32);
    Ok(if xlen(cx) == 32 { v & 0xffff_ffff } else { v })
}

/// `fmv.w.x`: args (x, insn).
pub fn fmv_w_x(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[1])?;
    dirty(cx);
    Ok(boxed(a[0] as u32))
}

/// `fmv.x.d`: args (a, insn).
pub fn fmv_x_d(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[1])?;
    Ok(a[0])
}

/// `fmv.d.x`: args (x, insn).
pub fn fmv_d_x(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[1])?;
    dirty(cx);
    Ok(a[0])
}

/// `fs_dirty`: args (insn). The FS check of `flw`/`fld` (whose loads are
/// IR loads after it): FS turns dirty before the load, as the privileged
/// spec allows (QEMU does the same).
pub fn fs_dirty(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check_and_dirty(cx, a[0])?;
    Ok(0)
}

/// `fs_on`: args (insn). The FS check of `fsw`/`fsd`.
pub fn fs_on(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    check(cx, a[0])?;
    Ok(0)
}

// The FP CSRs (fflags 0x001, frm 0x002, fcsr 0x003). GCC brackets every
// quiet comparison (flt/fle) with frflags/fsflags: through the generic CSR
// helpers, which end the block and take the full trampoline, they cost a
// tenth of a floating-point benchmark. The decoder sends CSR numbers 0-3
// here (`csrrw@fp` ...); these only touch `CpuState::fp`, as the
// arithmetic does, and agree with `csr::read`/`csr::write` (0x000 does not
// exist: illegal, as there).

/// The FP CSR `csr` (1-3) as read, or an illegal instruction.
fn fcsr_read(cx: &mut HelperCtx<'_, '_>, csr: u64, insn: u64) -> R {
    if !(1..=3).contains(&csr) {
        return Err(illegal(insn));
    }
    fs_enabled(cx.cpu, insn)?;
    let fp = cx.cpu.fp;
    Ok(match csr {
        1 => fp.flags as u64,
        2 => fp.rm as u64,
        _ => (fp.rm as u64) << 5 | fp.flags as u64,
    })
}

/// Write FP CSR `csr` (already checked by `fcsr_read`): FS turns dirty.
fn fcsr_write(cx: &mut HelperCtx<'_, '_>, csr: u64, v: u64) {
    super::csr::set_fp_csr(cx.cpu, csr as u32, v);
    dirty(cx);
}

/// `csrrw`/`csrrwi` of an FP CSR: args (csr, value, rd, insn); no read
/// when rd is x0 (the checks are the same either way).
pub fn fcsrrw(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let old = fcsr_read(cx, a[0], a[3])?;
    fcsr_write(cx, a[0], a[1]);
    Ok(if a[2] != 0 { old } else { 0 })
}

/// `csrrs`/`csrrsi` of an FP CSR: args (csr, mask, rs1, insn); no write
/// when rs1 is x0.
pub fn fcsrrs(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let old = fcsr_read(cx, a[0], a[3])?;
    if a[2] != 0 {
        fcsr_write(cx, a[0], old | a[1]);
    }
    Ok(old)
}

/// `csrrc`/`csrrci` of an FP CSR: args (csr, mask, rs1, insn).
pub fn fcsrrc(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let old = fcsr_read(cx, a[0], a[3])?;
    if a[2] != 0 {
        fcsr_write(cx, a[0], old & !a[1]);
    }
    Ok(old)
}
