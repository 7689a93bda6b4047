/*
 * Self-checking test of every M-extension instruction: mul, mulh, mulhsu,
 * mulhu, div, divu, rem, remu and, on RV64, mulw, divw, divuw, remw, remuw.
 * Edge cases: signs of the high-half multiplies, division by zero (quotient
 * all ones, remainder = dividend), signed overflow (MIN / -1 = MIN, rem 0),
 * truncation toward zero, *W forms ignoring the upper operand bits and
 * sign-extending their 32-bit results, register aliasing, rd = x0.
 * Built for RV64 and RV32 (m64.elf, m32.elf).
 *
 * Prints "m64: all tests passed\n" (or m32) and exits 0, or "FAIL <n>\n"
 * and exits with code n for the first failing test case n.
 */
#include "rvtest.h"

        RVTEST_START

#if __riscv_xlen == 64
        TEST_RR_OP mul, 0x15, 0x3, 0x7
        TEST_RR_OP mul, 0xfffffffffffffff1, 0xfffffffffffffffd, 0x5
        TEST_RR_OP mul, 0x1, 0xffffffffffffffff, 0xffffffffffffffff
        TEST_RR_OP mul, 0xfffffffffffffffe, 0x7fffffffffffffff, 0x2
        TEST_RR_OP mul, 0x0, 0x8000000000000000, 0x8000000000000000
        TEST_RR_OP mul, 0x236d88fe5618cf00, 0x123456789abcdef0, 0xfedcba9876543210
        TEST_RR_OP mul, 0x0, 0x0, 0x8000000000000000

        TEST_RR_OP mulh, 0x0, 0x3, 0x7
        TEST_RR_OP mulh, 0x0, 0xffffffffffffffff, 0xffffffffffffffff
        TEST_RR_OP mulh, 0xffffffffffffffff, 0xffffffffffffffff, 0x1
        TEST_RR_OP mulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
        TEST_RR_OP mulh, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff
        TEST_RR_OP mulh, 0xffffffffffffffff, 0x8000000000000000, 0x1
        TEST_RR_OP mulh, 0xffeb49923cc09532, 0x123456789abcdef0, 0xfedcba9876543210
        TEST_RR_OP mulh, 0x0, 0x8000000000000000, 0xffffffffffffffff

        TEST_RR_OP mulhsu, 0x0, 0x3, 0x7
        TEST_RR_OP mulhsu, 0xffffffffffffffff, 0xffffffffffffffff, 0xffffffffffffffff
        TEST_RR_OP mulhsu, 0x0, 0x1, 0xffffffffffffffff
        TEST_RR_OP mulhsu, 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
        TEST_RR_OP mulhsu, 0xffffffffffffffff, 0xfffffffffffffffe, 0x3
        TEST_RR_OP mulhsu, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0xffffffffffffffff
        TEST_RR_OP mulhsu, 0x121fa00ad77d7422, 0x123456789abcdef0, 0xfedcba9876543210
        TEST_RR_OP mulhsu, 0xffffffffffffffff, 0xffffffffffffffff, 0x1

        TEST_RR_OP mulhu, 0x0, 0x3, 0x7
        TEST_RR_OP mulhu, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff
        TEST_RR_OP mulhu, 0x1, 0x8000000000000000, 0x2
        TEST_RR_OP mulhu, 0x0, 0xffffffffffffffff, 0x1
        TEST_RR_OP mulhu, 0x121fa00ad77d7422, 0x123456789abcdef0, 0xfedcba9876543210
        TEST_RR_OP mulhu, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff

        TEST_RR_OP div, 0x3, 0x14, 0x6
        TEST_RR_OP div, 0xfffffffffffffffd, 0xffffffffffffffec, 0x6
        TEST_RR_OP div, 0xfffffffffffffffd, 0x14, 0xfffffffffffffffa
        TEST_RR_OP div, 0x3, 0xffffffffffffffec, 0xfffffffffffffffa
        TEST_RR_OP div, 0x0, 0x0, 0x5
        TEST_RR_OP div, 0xffffffffffffffff, 0x7, 0x0
        TEST_RR_OP div, 0xffffffffffffffff, 0xfffffffffffffff9, 0x0
        TEST_RR_OP div, 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
        TEST_RR_OP div, 0x8000000000000000, 0x8000000000000000, 0x1
        TEST_RR_OP div, 0x8000000000000001, 0x7fffffffffffffff, 0xffffffffffffffff

        TEST_RR_OP divu, 0x3, 0x14, 0x6
        TEST_RR_OP divu, 0x2aaaaaaaaaaaaaa7, 0xffffffffffffffec, 0x6
        TEST_RR_OP divu, 0x0, 0x14, 0xfffffffffffffffa
        TEST_RR_OP divu, 0xffffffffffffffff, 0x7, 0x0
        TEST_RR_OP divu, 0xffffffffffffffff, 0x0, 0x0
        TEST_RR_OP divu, 0x0, 0x8000000000000000, 0xffffffffffffffff
        TEST_RR_OP divu, 0xffffffffffffffff, 0xffffffffffffffff, 0x1

        TEST_RR_OP rem, 0x2, 0x14, 0x6
        TEST_RR_OP rem, 0xfffffffffffffffe, 0xffffffffffffffec, 0x6
        TEST_RR_OP rem, 0x2, 0x14, 0xfffffffffffffffa
        TEST_RR_OP rem, 0xfffffffffffffffe, 0xffffffffffffffec, 0xfffffffffffffffa
        TEST_RR_OP rem, 0x7, 0x7, 0x0
        TEST_RR_OP rem, 0xfffffffffffffff9, 0xfffffffffffffff9, 0x0
        TEST_RR_OP rem, 0x0, 0x8000000000000000, 0xffffffffffffffff
        TEST_RR_OP rem, 0x0, 0x8000000000000000, 0x1
        TEST_RR_OP rem, 0x0, 0x0, 0x0

        TEST_RR_OP remu, 0x2, 0x14, 0x6
        TEST_RR_OP remu, 0x2, 0xffffffffffffffec, 0x6
        TEST_RR_OP remu, 0x14, 0x14, 0xfffffffffffffffa
        TEST_RR_OP remu, 0x7, 0x7, 0x0
        TEST_RR_OP remu, 0xfffffffffffffff9, 0xfffffffffffffff9, 0x0
        TEST_RR_OP remu, 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
        TEST_RR_OP remu, 0x0, 0x0, 0x0

        TEST_RR_OP mulw, 0x15, 0x3, 0x7
        TEST_RR_OP mulw, 0xfffffffffffffffe, 0x7fffffff, 0x2
        TEST_RR_OP mulw, 0xf, 0x100000003, 0x100000005
        TEST_RR_OP mulw, 0xffffffff80000000, 0x80000000, 0x1
        TEST_RR_OP mulw, 0x1, 0xffffffffffffffff, 0xffffffffffffffff
        TEST_RR_OP mulw, 0xffffffffe242d208, 0x12345678, 0x9abcdef

        TEST_RR_OP divw, 0x3, 0x14, 0x6
        TEST_RR_OP divw, 0xfffffffffffffffd, 0xffffffec, 0x6
        TEST_RR_OP divw, 0x3, 0x1ffffffec, 0xfffffffffffffffa
        TEST_RR_OP divw, 0xffffffffffffffff, 0x7, 0x0
        TEST_RR_OP divw, 0xffffffff80000000, 0x80000000, 0xffffffffffffffff
        TEST_RR_OP divw, 0xffffffff80000000, 0x80000000, 0x1
        TEST_RR_OP divw, 0xffffffffffffffff, 0x123456789, 0x0

        TEST_RR_OP divuw, 0x3, 0x14, 0x6
        TEST_RR_OP divuw, 0x2aaaaaa7, 0xffffffec, 0x6
        TEST_RR_OP divuw, 0xfffffffffffffffe, 0xfffffffe, 0x1
        TEST_RR_OP divuw, 0xffffffffffffffff, 0x7, 0x0
        TEST_RR_OP divuw, 0xffffffffffffffff, 0x100000000, 0x0
        TEST_RR_OP divuw, 0xffffffff80000000, 0x180000000, 0x1
        TEST_RR_OP divuw, 0x7fffffff, 0xffffffffffffffff, 0x100000002

        TEST_RR_OP remw, 0x2, 0x14, 0x6
        TEST_RR_OP remw, 0xfffffffffffffffe, 0xffffffec, 0x6
        TEST_RR_OP remw, 0x2, 0x14, 0xfffffffa
        TEST_RR_OP remw, 0x23456789, 0x123456789, 0x0
        TEST_RR_OP remw, 0xffffffff80000001, 0x80000001, 0x0
        TEST_RR_OP remw, 0x0, 0x80000000, 0xffffffffffffffff
        TEST_RR_OP remw, 0xffffffff80000000, 0x180000000, 0x100000000

        TEST_RR_OP remuw, 0x2, 0x14, 0x6
        TEST_RR_OP remuw, 0x2, 0xffffffec, 0x6
        TEST_RR_OP remuw, 0xffffffff80000000, 0x180000000, 0x0
        TEST_RR_OP remuw, 0x23456789, 0x123456789, 0x0
        TEST_RR_OP remuw, 0x3, 0xffffffffffffffff, 0x100000007
        TEST_RR_OP remuw, 0xffffffff80000000, 0x80000000, 0xffffffffffffffff

#endif
#if __riscv_xlen == 32
        TEST_RR_OP mul, 0x15, 0x3, 0x7
        TEST_RR_OP mul, 0xfffffff1, 0xfffffffd, 0x5
        TEST_RR_OP mul, 0x1, 0xffffffff, 0xffffffff
        TEST_RR_OP mul, 0xfffffffe, 0x7fffffff, 0x2
        TEST_RR_OP mul, 0x0, 0x80000000, 0x80000000
        TEST_RR_OP mul, 0x35068740, 0x12345678, 0xfedcba98
        TEST_RR_OP mul, 0x0, 0x0, 0x80000000

        TEST_RR_OP mulh, 0x0, 0x3, 0x7
        TEST_RR_OP mulh, 0x0, 0xffffffff, 0xffffffff
        TEST_RR_OP mulh, 0xffffffff, 0xffffffff, 0x1
        TEST_RR_OP mulh, 0x40000000, 0x80000000, 0x80000000
        TEST_RR_OP mulh, 0x3fffffff, 0x7fffffff, 0x7fffffff
        TEST_RR_OP mulh, 0xffffffff, 0x80000000, 0x1
        TEST_RR_OP mulh, 0xffeb4992, 0x12345678, 0xfedcba98
        TEST_RR_OP mulh, 0x0, 0x80000000, 0xffffffff

        TEST_RR_OP mulhsu, 0x0, 0x3, 0x7
        TEST_RR_OP mulhsu, 0xffffffff, 0xffffffff, 0xffffffff
        TEST_RR_OP mulhsu, 0x0, 0x1, 0xffffffff
        TEST_RR_OP mulhsu, 0x80000000, 0x80000000, 0xffffffff
        TEST_RR_OP mulhsu, 0xffffffff, 0xfffffffe, 0x3
        TEST_RR_OP mulhsu, 0x7ffffffe, 0x7fffffff, 0xffffffff
        TEST_RR_OP mulhsu, 0x121fa00a, 0x12345678, 0xfedcba98
        TEST_RR_OP mulhsu, 0xffffffff, 0xffffffff, 0x1

        TEST_RR_OP mulhu, 0x0, 0x3, 0x7
        TEST_RR_OP mulhu, 0xfffffffe, 0xffffffff, 0xffffffff
        TEST_RR_OP mulhu, 0x1, 0x80000000, 0x2
        TEST_RR_OP mulhu, 0x0, 0xffffffff, 0x1
        TEST_RR_OP mulhu, 0x121fa00a, 0x12345678, 0xfedcba98
        TEST_RR_OP mulhu, 0x3fffffff, 0x7fffffff, 0x7fffffff

        TEST_RR_OP div, 0x3, 0x14, 0x6
        TEST_RR_OP div, 0xfffffffd, 0xffffffec, 0x6
        TEST_RR_OP div, 0xfffffffd, 0x14, 0xfffffffa
        TEST_RR_OP div, 0x3, 0xffffffec, 0xfffffffa
        TEST_RR_OP div, 0x0, 0x0, 0x5
        TEST_RR_OP div, 0xffffffff, 0x7, 0x0
        TEST_RR_OP div, 0xffffffff, 0xfffffff9, 0x0
        TEST_RR_OP div, 0x80000000, 0x80000000, 0xffffffff
        TEST_RR_OP div, 0x80000000, 0x80000000, 0x1
        TEST_RR_OP div, 0x80000001, 0x7fffffff, 0xffffffff

        TEST_RR_OP divu, 0x3, 0x14, 0x6
        TEST_RR_OP divu, 0x2aaaaaa7, 0xffffffec, 0x6
        TEST_RR_OP divu, 0x0, 0x14, 0xfffffffa
        TEST_RR_OP divu, 0xffffffff, 0x7, 0x0
        TEST_RR_OP divu, 0xffffffff, 0x0, 0x0
        TEST_RR_OP divu, 0x0, 0x80000000, 0xffffffff
        TEST_RR_OP divu, 0xffffffff, 0xffffffff, 0x1

        TEST_RR_OP rem, 0x2, 0x14, 0x6
        TEST_RR_OP rem, 0xfffffffe, 0xffffffec, 0x6
        TEST_RR_OP rem, 0x2, 0x14, 0xfffffffa
        TEST_RR_OP rem, 0xfffffffe, 0xffffffec, 0xfffffffa
        TEST_RR_OP rem, 0x7, 0x7, 0x0
        TEST_RR_OP rem, 0xfffffff9, 0xfffffff9, 0x0
        TEST_RR_OP rem, 0x0, 0x80000000, 0xffffffff
        TEST_RR_OP rem, 0x0, 0x80000000, 0x1
        TEST_RR_OP rem, 0x0, 0x0, 0x0

        TEST_RR_OP remu, 0x2, 0x14, 0x6
        TEST_RR_OP remu, 0x2, 0xffffffec, 0x6
        TEST_RR_OP remu, 0x14, 0x14, 0xfffffffa
        TEST_RR_OP remu, 0x7, 0x7, 0x0
        TEST_RR_OP remu, 0xfffffff9, 0xfffffff9, 0x0
        TEST_RR_OP remu, 0x80000000, 0x80000000, 0xffffffff
        TEST_RR_OP remu, 0x0, 0x0, 0x0

#endif
        /* register aliasing and rd = x0 */
        TEST_RR_SRC1_EQ_DEST  mul, 42, 6, 7
        TEST_RR_SRC2_EQ_DEST  mul, 42, 6, 7
        TEST_RR_SRC12_EQ_DEST mul, 49, 7
        TEST_RR_SRC1_EQ_DEST  div, 3, 20, 6
        TEST_RR_SRC2_EQ_DEST  rem, 2, 20, 6
        TEST_RR_SRC12_EQ_DEST divu, 1, 9
        TEST_RR_SRC12_EQ_DEST remu, 0, 9
        TEST_RR_SRC12_EQ_DEST mulhu, 0, 9
        TEST_RR_ZERODEST mul, 6, 7
        TEST_RR_ZERODEST div, 6, 0
        TEST_RR_ZERODEST mulh, -1, -1

        RVTEST_END m
