/*
 * Bare-metal test of F and D as the privileged architecture sees them:
 * mstatus.FS gating (FP instructions and FP CSRs are illegal while FS is
 * Off; writing FP state makes FS Dirty and sets SD), exception flags (DZ,
 * NV, NX, OF, UF), canonical NaNs, all five static rounding modes and the
 * dynamic mode, an invalid frm (illegal), saturating conversions, NaN
 * boxing, fmin/fmax of signed zeros and NaNs, fclass, the fcsr layout, and
 * FP loads and stores. Built for RV64 and RV32 (fp64.elf, fp32.elf) with
 * `-march=rv{64,32}imafdc_zicsr` and the soft-float ABI (no libc).
 *
 * Prints "fp64: all tests passed\n" (or fp32) and exits 0, or "FAIL <n>\n"
 * and exits with code n for the first failing test case n.
 */
#include "rvtest.h"

#define FS_MASK     0x6000
#define FS_INITIAL  0x2000
#define NX 0x01
#define UF 0x02
#define OF 0x04
#define DZ 0x08
#define NV 0x10

/* \reg = the fflags, then clear them. */
.macro FLAGS reg
        csrrw   \reg, fflags, zero
.endm

        RVTEST_START

        /* 1-2: FS = Off: an FP instruction and an FP CSR are illegal. */
        TRAP_BEGIN
        li      t0, FS_MASK
        csrc    mstatus, t0
1:      fadd.s  f0, f1, f2
        LOAD_INSN t1, 1b
        CHECK   s4, 2
        lla     x7, 1b
        CHECK_REG s5, x7
        CHECK_REG s6, t1                /* mtval = the instruction */
        TRAP_BEGIN
2:      csrr    t1, fcsr
        CHECK   s4, 2

        /* 3: FS = Initial; writing an F register makes it Dirty (and SD). */
        TEST_BEGIN
        li      t0, FS_INITIAL
        csrs    mstatus, t0
        csrr    t1, mstatus
        li      s2, FS_MASK
        and     t1, t1, s2
        CHECK   t1, FS_INITIAL
        csrw    fcsr, zero
        li      t0, 0x3f800000          /* 1.0f */
        fmv.w.x f1, t0
        csrr    t1, mstatus
        and     s2, t1, s2
        CHECK   s2, FS_MASK
        srli    t1, t1, XLEN_MSB        /* SD */
        CHECK   t1, 1

        /* 4-5: 1/0 = +inf with DZ; 0/0 = canonical NaN with NV. */
        TEST_BEGIN
        fmv.w.x f2, zero
        FLAGS   t1
        fdiv.s  f3, f1, f2
        fmv.x.w t1, f3
        CHECK   t1, 0x7f800000
        FLAGS   t1
        CHECK   t1, DZ
        TEST_BEGIN
        fdiv.s  f3, f2, f2
        fmv.x.w t1, f3
        CHECK   t1, 0x7fc00000
        FLAGS   t1
        CHECK   t1, NV

        /* 6: sqrt(-1) = canonical NaN, NV. */
        TEST_BEGIN
        li      t0, 0xbf800000
        fmv.w.x f4, t0
        fsqrt.s f3, f4
        fmv.x.w t1, f3
        CHECK   t1, 0x7fc00000
        FLAGS   t1
        CHECK   t1, NV

        /* 7-8: fcvt.w.s of 2.5 and -2.5 in every static rounding mode (NX). */
        TEST_BEGIN
        li      t0, 0x40200000          /* 2.5f */
        fmv.w.x f5, t0
        fcvt.w.s t1, f5, rne
        CHECK   t1, 2
        fcvt.w.s t1, f5, rtz
        CHECK   t1, 2
        fcvt.w.s t1, f5, rdn
        CHECK   t1, 2
        fcvt.w.s t1, f5, rup
        CHECK   t1, 3
        fcvt.w.s t1, f5, rmm
        CHECK   t1, 3
        FLAGS   t1
        CHECK   t1, NX
        TEST_BEGIN
        li      t0, 0xc0200000          /* -2.5f */
        fmv.w.x f6, t0
        fcvt.w.s t1, f6, rne
        CHECK   t1, -2
        fcvt.w.s t1, f6, rtz
        CHECK   t1, -2
        fcvt.w.s t1, f6, rdn
        CHECK   t1, -3
        fcvt.w.s t1, f6, rup
        CHECK   t1, -2
        fcvt.w.s t1, f6, rmm
        CHECK   t1, -3
        FLAGS   t1

        /* 9: the dynamic mode reads frm. */
        TEST_BEGIN
        csrwi   frm, 3                  /* round up */
        fcvt.w.s t1, f5, dyn
        CHECK   t1, 3
        csrwi   frm, 2                  /* round down */
        fcvt.w.s t1, f6, dyn
        CHECK   t1, -3
        FLAGS   t1

        /* 10: an invalid frm with the dynamic mode is illegal. */
        TRAP_BEGIN
        csrwi   frm, 5
3:      fcvt.w.s t1, f5, dyn
        CHECK   s4, 2
        lla     x7, 3b
        CHECK_REG s5, x7
        csrwi   frm, 0

        /* 11: saturating conversions: +inf, NaN -> INT_MAX; -inf -> INT_MIN;
         * -1.0 to unsigned -> 0; each NV. */
        TEST_BEGIN
        li      t0, 0x7f800000
        fmv.w.x f7, t0
        fcvt.w.s t1, f7, rtz
        CHECK   t1, 0x7fffffff
        FLAGS   t1
        CHECK   t1, NV
        li      t0, 0x7fc00000
        fmv.w.x f7, t0
        fcvt.w.s t1, f7, rtz
        CHECK   t1, 0x7fffffff
        li      t0, 0xff800000
        fmv.w.x f7, t0
        fcvt.w.s t1, f7, rtz
        CHECK   t1, -0x80000000
        fcvt.wu.s t1, f4, rtz           /* -1.0 */
        CHECK   t1, 0
        FLAGS   t1
        CHECK   t1, NV

        /* 12: NaN boxing: a double in an F register read as single is the
         * canonical NaN (a quiet NaN: no flag). */
        TEST_BEGIN
        li      t0, 1
        fcvt.d.w f8, t0                 /* 1.0 as a double: not NaN-boxed */
        fadd.s  f9, f8, f1
        fmv.x.w t1, f9
        CHECK   t1, 0x7fc00000
        FLAGS   t1
        CHECK   t1, 0

        /* 13: fmin/fmax: -0 < +0; a NaN operand gives the other. */
        TEST_BEGIN
        li      t0, 0x80000000
        fmv.w.x f10, t0                 /* -0.0 */
        fmv.w.x f11, zero               /* +0.0 */
        fmin.s  f12, f11, f10
        fmv.x.w t1, f12
        CHECKX  t1, 0xffffffff80000000, 0x80000000
        fmax.s  f12, f10, f11
        fmv.x.w t1, f12
        CHECK   t1, 0
        li      t0, 0x7fc00000
        fmv.w.x f13, t0
        fmin.s  f12, f13, f1
        fmv.x.w t1, f12
        CHECK   t1, 0x3f800000
        FLAGS   t1
        CHECK   t1, 0

        /* 14: fclass. */
        TEST_BEGIN
        li      t0, 0xff800000
        fmv.w.x f14, t0
        fclass.s t1, f14
        CHECK   t1, 0x001               /* -inf */
        fclass.s t1, f11
        CHECK   t1, 0x010               /* +0 */
        fclass.s t1, f13
        CHECK   t1, 0x200               /* quiet NaN */
        li      t0, 0x7f800001
        fmv.w.x f14, t0
        fclass.s t1, f14
        CHECK   t1, 0x100               /* signalling NaN */
        li      t0, 1
        fmv.w.x f14, t0
        fclass.s t1, f14
        CHECK   t1, 0x020               /* +subnormal */

        /* 15: overflow and underflow flags (double). */
        TEST_BEGIN
#if __riscv_xlen == 64
        li      t0, 0x7fe
        slli    t0, t0, 52              /* 2^1023 */
        fmv.d.x f15, t0
#else
        /* RV32: build the double through memory */
        lla     t1, scratch
        sw      zero, 0(t1)
        li      t0, 0x7fe00000
        sw      t0, 4(t1)
        fld     f15, 0(t1)
#endif
        fmul.d  f16, f15, f15           /* overflow: +inf, OF|NX */
        FLAGS   t1
        CHECK   t1, OF | NX
        fcvt.d.w f17, zero
        li      t0, 3
        fcvt.d.w f18, t0
        li      t0, 1
        fcvt.d.w f19, t0
        fdiv.d  f20, f19, f18           /* 1/3: NX only */
        FLAGS   t1
        CHECK   t1, NX
        li      t0, 0x00800000          /* smallest normal single */
        fmv.w.x f21, t0
        li      t0, 0x3f000000          /* 0.5 */
        fmv.w.x f22, t0
        fmul.s  f23, f21, f22           /* exact subnormal: no UF */
        FLAGS   t1
        CHECK   t1, 0
        li      t0, 0x00800001
        fmv.w.x f21, t0
        fmul.s  f23, f21, f22           /* inexact subnormal: UF|NX */
        FLAGS   t1
        CHECK   t1, UF | NX

        /* 16: fcsr = frm << 5 | fflags. */
        TEST_BEGIN
        li      t0, 0xff
        csrw    fcsr, t0
        csrr    t1, frm
        CHECK   t1, 7
        csrr    t1, fflags
        CHECK   t1, 0x1f
        csrr    t1, fcsr
        CHECK   t1, 0xff
        csrw    fcsr, zero

        /* 17: FP loads and stores move bits unchanged (a signalling NaN). */
        TEST_BEGIN
        lla     s2, scratch
        li      t0, 0x7f800001
        sw      t0, 0(s2)
        flw     f24, 0(s2)
        fsw     f24, 4(s2)
        lw      t1, 4(s2)
        CHECK   t1, 0x7f800001
        TEST_BEGIN
        fld     f25, 0(s2)
        fsd     f25, 8(s2)
        lw      t1, 8(s2)
        CHECK   t1, 0x7f800001
        TEST_BEGIN
        FLAGS   t1
        CHECK   t1, 0

        RVTEST_END fp

        .section .data
        .balign 8
scratch:
        .dword  0, 0, 0
