/*
 * Self-checking test of the Cortex-M4's single-precision FPU (FPv4-SP):
 * NOCP while CPACR denies it, arithmetic and square root with their
 * FPSCR flags, NaN propagation and default-NaN mode, flush-to-zero,
 * rounding modes in conversions, saturating conversions, comparisons
 * (VMRS APSR_nzcv), fused and chained multiply-accumulate, fixed-point
 * conversions, moves, loads and stores, VPUSH/VPOP, and the FP context on
 * exception entry (EXC_RETURN 0xFFFFFFE9, s0-s15 and FPSCR restored).
 *
 * Built with -mcpu=cortex-m4 -mfpu=fpv4-sp-d16; run on `-M mps2-an386`.
 * Results go through core registers (VMOV, VMRS), so a register trace
 * checks them. Prints "fp: all tests passed\n" and exits 0, or
 * "FAIL <n>\n" and exits n.
 */
#include "armtest.h"

        .fpu    fpv4-sp-d16

#define IOC 0x01
#define DZC 0x02
#define OFC 0x04
#define UFC 0x08
#define IXC 0x10
#define IDC 0x80
#define FPSCR_DN (1 << 25)
#define FPSCR_FZ (1 << 24)
#define RM_RP (1 << 22)
#define RM_RM (2 << 22)
#define RM_RZ (3 << 22)

        .section .vectors, "a"
        .word   _stack_top
        .word   reset
        .word   0
        .word   fault_handler       @ HardFault
        .word   0, 0, 0, 0, 0, 0, 0
        .word   svc_handler

/* s\reg <- the bits \val (through r10). */
.macro FLOAD sreg, val
        ldr     r10, =\val
        vmov    \sreg, r10
.endm

/* The bits of \sreg must be \val. */
.macro FCHECK sreg, val
        vmov    r9, \sreg
        CHECK   r9, \val
.endm

/* FPSCR's cumulative flags must be \flags; then clear FPSCR to \mode. */
.macro FLAGS flags, mode=0
        vmrs    r9, fpscr
        and     r9, r9, #0x9f
        CHECK   r9, \flags
        ldr     r9, =\mode
        vmsr    fpscr, r9
.endm

        .text
        .thumb_func
        .global reset
reset:
        /* ---- NOCP while CPACR denies the FPU */
        TEST 1
        vmov.f32 s0, #1.0
        ldr     r0, =fault_cfsr
        ldr     r1, [r0]
        CHECK   r1, 0x00080000      @ NOCP (escalated: UsageFault is off)
        /* enable CP10 and CP11 */
        ldr     r0, =SCB_CPACR
        mov     r1, #(0xf << 20)
        str     r1, [r0]
        dsb
        isb

        /* ---- arithmetic */
        TEST 2
        vmov.f32 s0, #1.0
        vmov.f32 s1, #2.0
        vadd.f32 s2, s0, s1
        FCHECK  s2, 0x40400000
        TEST 3
        vsub.f32 s2, s0, s1
        vmul.f32 s3, s2, s1
        FCHECK  s3, 0xc0000000
        FLAGS   0
        TEST 4
        vmov.f32 s3, #3.0
        vdiv.f32 s2, s0, s3
        FCHECK  s2, 0x3eaaaaab
        FLAGS   IXC
        TEST 5
        vsqrt.f32 s2, s1
        FCHECK  s2, 0x3fb504f3
        FLAGS   IXC
        TEST 6
        FLOAD   s4, 0
        vdiv.f32 s2, s0, s4         @ 1 / 0
        FCHECK  s2, 0x7f800000
        FLAGS   DZC
        TEST 7
        vdiv.f32 s2, s4, s4         @ 0 / 0
        FCHECK  s2, 0x7fc00000
        FLAGS   IOC
        TEST 8
        FLOAD   s5, 0x7f7fffff
        vmul.f32 s2, s5, s1         @ overflow
        FCHECK  s2, 0x7f800000
        FLAGS   OFC | IXC
        TEST 9
        FLOAD   s5, 0x00800000      @ the smallest normal
        vmov.f32 s6, #0.5
        vmul.f32 s2, s5, s6         @ exact subnormal: no underflow
        FCHECK  s2, 0x00400000
        FLAGS   0
        TEST 10
        FLOAD   s6, 0x3dcccccd      @ 0.1
        vmul.f32 s2, s5, s6
        FCHECK  s2, 0x000ccccd
        FLAGS   UFC | IXC

        /* ---- NaNs */
        TEST 20
        FLOAD   s6, 0x7f800001      @ signalling
        FLOAD   s7, 0x7fc00002      @ quiet
        vadd.f32 s2, s6, s7
        FCHECK  s2, 0x7fc00001
        FLAGS   IOC
        TEST 21
        vadd.f32 s2, s7, s6         @ the signalling one wins either way
        FCHECK  s2, 0x7fc00001
        FLAGS   IOC
        TEST 22
        vmul.f32 s2, s7, s0
        FCHECK  s2, 0x7fc00002
        FLAGS   0, FPSCR_DN
        TEST 23
        vmul.f32 s2, s7, s0         @ default NaN mode
        FCHECK  s2, 0x7fc00000
        FLAGS   0, FPSCR_FZ

        /* ---- flush to zero */
        TEST 30
        FLOAD   s6, 0x00000001
        vadd.f32 s2, s6, s4         @ denormal input: flushed
        FCHECK  s2, 0
        FLAGS   IDC, FPSCR_FZ
        TEST 31
        FLOAD   s6, 0x3f000000
        vmul.f32 s2, s5, s6         @ subnormal result: flushed
        FCHECK  s2, 0
        FLAGS   UFC

        /* ---- conversions and rounding modes */
        TEST 40
        FLOAD   s6, 0x40200000      @ 2.5
        vcvtr.s32.f32 s2, s6        @ nearest even
        FCHECK  s2, 2
        FLAGS   IXC, RM_RP
        TEST 41
        vcvtr.s32.f32 s2, s6        @ toward +inf
        FCHECK  s2, 3
        FLAGS   IXC, RM_RM
        TEST 42
        FLOAD   s6, 0xc0200000      @ -2.5
        vcvtr.s32.f32 s2, s6        @ toward -inf
        FCHECK  s2, -3
        FLAGS   IXC
        TEST 43
        FLOAD   s6, 0xc02ccccd      @ -2.7
        vcvt.s32.f32 s2, s6         @ toward zero
        FCHECK  s2, -2
        FLAGS   IXC
        TEST 44
        vcvt.u32.f32 s2, s6         @ negative to unsigned
        FCHECK  s2, 0
        FLAGS   IOC
        TEST 45
        FLOAD   s6, 0x4f9502f9      @ 5e9
        vcvt.u32.f32 s2, s6
        FCHECK  s2, 0xffffffff
        FLAGS   IOC
        TEST 46
        vcvt.s32.f32 s2, s7         @ NaN
        FCHECK  s2, 0
        FLAGS   IOC
        TEST 47
        FLOAD   s6, 16777217
        vcvt.f32.s32 s2, s6
        FCHECK  s2, 0x4b800000
        FLAGS   IXC
        TEST 48
        FLOAD   s6, 0xffffffff
        vcvt.f32.u32 s2, s6
        FCHECK  s2, 0x4f800000
        vcvt.f32.s32 s3, s6
        FCHECK  s3, 0xbf800000
        FLAGS   IXC
        TEST 49
        vmov.f32 s2, #1.5
        vcvt.s32.f32 s2, s2, #16    @ to Q16.16
        FCHECK  s2, 0x18000
        vcvt.f32.s32 s2, s2, #16
        FCHECK  s2, 0x3fc00000
        FLAGS   0
        TEST 50
        FLOAD   s2, 0x43964000      @ 300.5
        vcvt.u16.f32 s2, s2, #8     @ does not fit in 16 bits
        FCHECK  s2, 0xffff
        FLAGS   IOC

        /* ---- comparisons */
        TEST 60
        vcmp.f32 s0, s1             @ 1 < 2
        vmrs    APSR_nzcv, fpscr
        CHECK_NZCV 0x8
        TEST 61
        vcmp.f32 s1, s0
        vmrs    APSR_nzcv, fpscr
        CHECK_NZCV 0x2
        TEST 62
        vcmp.f32 s0, s0
        vmrs    APSR_nzcv, fpscr
        CHECK_NZCV 0x6
        bne     fail_far
        TEST 63
        vcmp.f32 s0, s7             @ unordered, quiet NaN: no IOC
        vmrs    APSR_nzcv, fpscr
        CHECK_NZCV 0x3
        FLAGS   0
        TEST 64
        vcmpe.f32 s0, s7            @ signalling compare: IOC
        FLAGS   IOC
        TEST 65
        vcmp.f32 s4, #0
        vmrs    APSR_nzcv, fpscr
        blt     fail_far
        bne     fail_far
        TEST 66
        vcmpe.f32 s3, #0.0
        vmrs    r0, fpscr
        lsr     r0, r0, #28
        CHECK   r0, 0x8

        /* ---- multiply-accumulate: fused rounds once, chained twice */
        TEST 70
        FLOAD   s0, 0x3f800800      @ 1 + 2^-12
        vmov.f32 s1, s0
        FLOAD   s2, 0xbf801000      @ -(1 + 2^-11)
        vmov.f32 s3, s2
        vfma.f32 s2, s0, s1         @ exactly 2^-24
        FCHECK  s2, 0x33800000
        vmla.f32 s3, s0, s1         @ the product rounded first: 0
        FCHECK  s3, 0
        TEST 71
        FLOAD   s2, 0x3f801000
        vfms.f32 s2, s0, s1
        FCHECK  s2, 0xb3800000
        FLOAD   s2, 0xbf801000
        vfnma.f32 s2, s0, s1
        FCHECK  s2, 0xb3800000
        FLOAD   s2, 0x3f801000
        vfnms.f32 s2, s0, s1
        FCHECK  s2, 0x33800000
        TEST 72
        vmov.f32 s0, #2.0
        vmov.f32 s1, #3.0
        vmov.f32 s2, #1.0
        vmla.f32 s2, s0, s1
        FCHECK  s2, 0x40e00000      @ 7
        vmov.f32 s2, #1.0
        vmls.f32 s2, s0, s1
        FCHECK  s2, 0xc0a00000      @ -5
        vmov.f32 s2, #1.0
        vnmla.f32 s2, s0, s1
        FCHECK  s2, 0xc0e00000      @ -7
        vmov.f32 s2, #1.0
        vnmls.f32 s2, s0, s1
        FCHECK  s2, 0x40a00000      @ 5
        vnmul.f32 s2, s0, s1
        FCHECK  s2, 0xc0c00000      @ -6
        TEST 73
        vmov.f32 s2, #-1.0
        vabs.f32 s3, s2
        FCHECK  s3, 0x3f800000
        vneg.f32 s3, s4
        FCHECK  s3, 0x80000000
        FLAGS   IXC                 @ from the chained VMLA of test 70

        /* ---- moves, loads, stores */
        TEST 80
        ldr     r0, =0x12345678
        ldr     r1, =0x9abcdef0
        vmov    s10, s11, r0, r1
        vmov    r2, r3, s10, s11
        CHECK   r3, 0x9abcdef0
        vmov    d6, r1, r0
        vmov    r2, r3, d6
        CHECK   r2, 0x9abcdef0
        vmov    r2, s13
        CHECK   r2, 0x12345678
        TEST 81
        ldr     r4, =fbuf
        vstr    s10, [r4]
        vstr    d6, [r4, #8]
        vldr    s20, [r4, #12]
        vldr    d11, [r4, #8]
        vmov    r2, s20
        CHECK   r2, 0x12345678
        vmov    r2, r3, d11
        CHECK   r3, 0x12345678
        TEST 82
        vldr    s21, flit
        vmov    r2, s21
        CHECK   r2, 0x40490fdb
        TEST 83
        vpush   {s16-s19}
        vpush   {d10}
        mov     r2, sp
        vmov.f32 s16, #0.5
        vmov.f32 s20, #0.5
        vpop    {d10}
        vpop    {s16-s19}
        vmov    r3, s20
        CHECK   r3, 0x12345678
        sub     r3, sp, r2
        CHECK   r3, 24
        TEST 84
        vstmia  r4!, {s10-s13}
        sub     r4, #16
        vldmia  r4, {s24-s27}
        vmov    r2, s27
        CHECK   r2, 0x12345678
        vldmdb  r4!, {s28}
        ldr     r2, =fbuf - 4
        CHECK_EQ r4, r2

        /* ---- the FP context across an exception */
        TEST 90
        vmov.f32 s0, #3.0
        FLAGS   0, RM_RZ
        svc     #1                  @ the handler clobbers s0 and FPSCR
        FCHECK  s0, 0x40400000
        vmrs    r0, fpscr
        CHECK   r0, RM_RZ
        ldr     r0, =svc_lr
        ldr     r0, [r0]
        CHECK   r0, 0xffffffe9      @ Thread, MSP, FP context stacked
        ldr     r0, =svc_sp
        ldr     r0, [r0]
        sub     r0, sp, r0
        CHECK   r0, 0x68
        TEST 91
        mrs     r0, control
        CHECK   r0, 4               @ FPCA

        ldr     r0, =pass_msg
        bl      puts
        movs    r0, #0
        b       exit

        .thumb_func
fail_far:
        b       fail

/* Records CFSR and skips the faulting (32-bit) instruction. */
        .thumb_func
fault_handler:
        ldr     r1, =SCB_CFSR
        ldr     r2, [r1]
        str     r2, [r1]
        ldr     r3, =fault_cfsr
        str     r2, [r3]
        ldr     r2, [r1, #4]
        str     r2, [r1, #4]
        ldr     r2, [sp, #24]
        add     r2, r2, #4
        str     r2, [sp, #24]
        bx      lr

        .thumb_func
svc_handler:
        ldr     r0, =svc_lr
        str     lr, [r0]
        ldr     r0, =svc_sp
        str     sp, [r0]
        vmov.f32 s0, #-2.0
        mov     r0, #0
        vmsr    fpscr, r0
        bx      lr

        .balign 4
flit:   .word   0x40490fdb          @ pi

        GUEST_ROUTINES

        .section .rodata
pass_msg: .asciz "fp: all tests passed\n"

        .bss
        .balign 8
fault_cfsr: .space 4
svc_lr: .space  4
svc_sp: .space  4
        .balign 8
fbuf:   .space  32
