/*
 * Self-checking test macros for hemu's RV32I/RV64I guests, in the style of
 * riscv-tests (TEST_RR_OP, TEST_IMM_OP, TEST_LD_OP, TEST_ST_OP, TEST_BR2_TAKEN/NOTTAKEN),
 * written with GNU as `.macro` so one source line is one test case.
 *
 * Conventions:
 *   gp  (x3)  number of the current test (1..255; it becomes the exit code)
 *   x14       default result register
 *   x7        expected value (clobbered by CHECK; never a test operand)
 *   x1, x2    default source registers
 * A failing check jumps to `fail`, which prints "FAIL <n>\n" and exits with
 * code n through the finisher; TEST_PASSFAIL emits `pass`/`fail`.
 * Branch ranges: checks use `beq ..., 9f; jal x0, fail` so that the test body
 * may exceed the +-4 KiB reach of a conditional branch.
 */
#ifndef HEMU_TEST_MACROS_H
#define HEMU_TEST_MACROS_H

#include "common.h"

#if __riscv_xlen == 64
#define LREG ld
#define SREG sd
#else
#define LREG lw
#define SREG sw
#endif

        .set    testnum, 0

/* Start a new test case: bump the test number and load it into gp. */
.macro TEST_BEGIN
        .set    testnum, testnum + 1
        .if     testnum > 255
        .error  "more than 255 test cases: exit codes would wrap"
        .endif
        li      gp, testnum
.endm

/* Fail unless register \reg holds the constant \expected. */
.macro CHECK reg, expected
        li      x7, \expected
        beq     \reg, x7, 9f
        jal     x0, fail
9:
.endm

/* Fail unless registers \a and \b are equal. */
.macro CHECK_REG a, b
        beq     \a, \b, 9f
        jal     x0, fail
9:
.endm

/* Fail unless x0 still reads as zero (compared against a value not built from x0). */
.macro CHECK_X0
        lui     x7, 0
        beq     x0, x7, 9f
        jal     x0, fail
9:
        add     x7, x0, x0
        beq     x7, x0, 8f
        jal     x0, fail
8:
.endm

/* rd = op rs1, rs2 with explicit registers. */
.macro TEST_RR_REGS op, result, val1, val2, rd, rs1, rs2
        TEST_BEGIN
        li      \rs1, \val1
        li      \rs2, \val2
        \op     \rd, \rs1, \rs2
        CHECK   \rd, \result
.endm

.macro TEST_RR_OP op, result, val1, val2
        TEST_RR_REGS \op, \result, \val1, \val2, x14, x1, x2
.endm

/* rs1 == rd */
.macro TEST_RR_SRC1_EQ_DEST op, result, val1, val2
        TEST_BEGIN
        li      x1, \val1
        li      x2, \val2
        \op     x1, x1, x2
        CHECK   x1, \result
.endm

/* rs2 == rd */
.macro TEST_RR_SRC2_EQ_DEST op, result, val1, val2
        TEST_BEGIN
        li      x1, \val1
        li      x2, \val2
        \op     x2, x1, x2
        CHECK   x2, \result
.endm

/* rs1 == rs2 == rd */
.macro TEST_RR_SRC12_EQ_DEST op, result, val1
        TEST_BEGIN
        li      x1, \val1
        \op     x1, x1, x1
        CHECK   x1, \result
.endm

/* rd == x0: the result is discarded. */
.macro TEST_RR_ZERODEST op, val1, val2
        TEST_BEGIN
        li      x1, \val1
        li      x2, \val2
        \op     x0, x1, x2
        CHECK_X0
.endm

/* rd = op rs1, imm with explicit registers. */
.macro TEST_IMM_REGS op, result, val1, imm, rd, rs1
        TEST_BEGIN
        li      \rs1, \val1
        \op     \rd, \rs1, \imm
        CHECK   \rd, \result
.endm

.macro TEST_IMM_OP op, result, val1, imm
        TEST_IMM_REGS \op, \result, \val1, \imm, x14, x1
.endm

.macro TEST_IMM_SRC1_EQ_DEST op, result, val1, imm
        TEST_IMM_REGS \op, \result, \val1, \imm, x1, x1
.endm

.macro TEST_IMM_ZERODEST op, val1, imm
        TEST_BEGIN
        li      x1, \val1
        \op     x0, x1, \imm
        CHECK_X0
.endm

/* Load from \base + \offset (\base is a label; \offset may be negative). */
.macro TEST_LD_OP op, result, offset, base
        TEST_BEGIN
        lla     x1, \base
        \op     x14, \offset(x1)
        CHECK   x14, \result
.endm

/* Load with rd == rs1. */
.macro TEST_LD_SRC1_EQ_DEST op, result, offset, base
        TEST_BEGIN
        lla     x1, \base
        \op     x1, \offset(x1)
        CHECK   x1, \result
.endm

/* Store \val with \sop at byte \k of the aligned XLEN word \base, addressed
 * as \offset(x1) (\offset may be negative), read it back with \lop
 * (expecting \result), then check the whole word (expecting \word) to catch
 * stores that are too wide. The word is set to \fill first. */
.macro TEST_ST_OP sop, lop, result, val, k, offset, base, fill, word
        TEST_BEGIN
        lla     x1, \base
        li      x2, \fill
        SREG    x2, 0(x1)
        addi    x1, x1, (\k) - (\offset)
        li      x2, \val
        \sop    x2, \offset(x1)
        \lop    x14, \offset(x1)
        CHECK   x14, \result
        lla     x1, \base
        LREG    x14, 0(x1)
        CHECK   x14, \word
.endm

/* auipc \imm: the result is the pc of the auipc plus \delta. */
.macro TEST_AUIPC imm, delta
        TEST_BEGIN
        jal     x6, 1f
1:      auipc   x14, \imm
        li      x7, \delta
        add     x6, x6, x7
        CHECK_REG x14, x6
.endm

/* Clear x1..x31 so that nothing depends on the boot ROM's register values. */
.macro CLEAR_XREGS
        .irp    r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        li      x\r, 0
        .endr
.endm

/* Branch taken, forward and backward. */
.macro TEST_BR2_TAKEN op, val1, val2
        TEST_BEGIN
        li      x1, \val1
        li      x2, \val2
        \op     x1, x2, 2f
        jal     x0, fail
1:      jal     x0, 3f
2:      \op     x1, x2, 1b
        jal     x0, fail
3:
.endm

/* Branch not taken, forward and backward. */
.macro TEST_BR2_NOTTAKEN op, val1, val2
        TEST_BEGIN
        li      x1, \val1
        li      x2, \val2
        \op     x1, x2, 1f
        jal     x0, 2f
1:      jal     x0, fail
2:      \op     x1, x2, 1b
.endm

/* Print the verdict: `pass` prints \msg and exits 0; `fail` prints
 * "FAIL <gp>\n" (decimal) and exits with code gp. */
.macro TEST_PASSFAIL msg
pass:
        lla     a0, \msg
        jal     ra, puts
        li      a0, 0
        jal     x0, exit
fail:
        lla     a0, fail_msg
        jal     ra, puts
        mv      s0, gp
        li      s2, 0
        li      s1, 100
        jal     ra, print_digit
        li      s1, 10
        jal     ra, print_digit
        li      s2, 1
        li      s1, 1
        jal     ra, print_digit
        li      a0, 10
        jal     ra, putc
        mv      a0, gp
        jal     x0, exit
/* Print the digit of s0 at place value s1 (subtracting it from s0), if
 * nonzero or if s2 != 0; sets s2 once a digit was printed. Uses s3, a0. */
print_digit:
        mv      s3, ra
        li      a0, 48
1:      bltu    s0, s1, 2f
        sub     s0, s0, s1
        addi    a0, a0, 1
        li      s2, 1
        jal     x0, 1b
2:      beqz    s2, 3f
        jal     ra, putc
3:      mv      ra, s3
        ret

GUEST_ROUTINES

        .section .rodata
fail_msg:
        .asciz  "FAIL "
        .text
.endm

#endif
