/*
 * Self-checking test of the A extension: lr/sc (success, sc without a
 * reservation, sc to another address than the reserved one) and every AMO
 * (.w, and .d on RV64), checking both the old value returned in rd and the
 * value left in memory: swap, add (wrapping), xor, and, or, signed and
 * unsigned min/max; sign extension of .w results on RV64 and the upper
 * operand bits ignored by .w; aq/rl variants; rd = x0, rd = rs1, rd = rs2.
 * Traps (M-mode handler, see rvtest.h), mtval = the address, memory and rd
 * unchanged: misaligned AMO and misaligned lr -> address misaligned; AMO and
 * lr on the unmapped address 0 -> access fault. For AMOs the privileged spec
 * gives the store/AMO causes (6, 7), which hemu raises, but QEMU 7.2
 * raises the load causes (4, 5); the checks accept both (see the
 * comments there).
 * Built for RV64 and RV32 (a64.elf, a32.elf).
 *
 * Prints "a64: all tests passed\n" (or a32) and exits 0, or "FAIL <n>\n"
 * and exits with code n for the first failing test case n.
 */
#include "rvtest.h"

/* Word at amo_buf = \init, word at amo_buf + 4 = a sentinel; x14 = \op x2 = \src
 * on it; expect x14 = \old and the word = \new (both as lw reads them) and
 * the sentinel untouched. */
.macro TEST_AMO_W op, init, src, old, new
        TEST_BEGIN
        lla     x1, amo_buf
        li      x2, \init
        sw      x2, 0(x1)
        li      x2, 0x5a5a5a5a
        sw      x2, 4(x1)
        li      x2, \src
        \op     x14, x2, (x1)
        CHECK   x14, \old
        lw      x14, 0(x1)
        CHECK   x14, \new
        lw      x14, 4(x1)
        CHECK   x14, 0x5a5a5a5a
.endm

#if __riscv_xlen == 64
/* The same on the doubleword at amo_buf (RV64). */
.macro TEST_AMO_D op, init, src, old, new
        TEST_BEGIN
        lla     x1, amo_buf
        li      x2, \init
        sd      x2, 0(x1)
        li      x2, 0x5a5a5a5a5a5a5a5a
        sd      x2, 8(x1)
        li      x2, \src
        \op     x14, x2, (x1)
        CHECK   x14, \old
        ld      x14, 0(x1)
        CHECK   x14, \new
        ld      x14, 8(x1)
        CHECK   x14, 0x5a5a5a5a5a5a5a5a
.endm
#endif

        RVTEST_START

        /* ---- lr.w / sc.w ---- */
        /* success: sc returns 0 and stores */
        TEST_BEGIN
        lla     x1, amo_buf
        li      x2, 111
        sw      x2, 0(x1)
        lr.w    x14, (x1)
        CHECK   x14, 111
        li      x2, 222
        sc.w    x15, x2, (x1)
        CHECK   x15, 0
        lw      x14, 0(x1)
        CHECK   x14, 222
        /* the successful sc used up the reservation: a second sc fails (1), no store */
        TEST_BEGIN
        li      x2, 333
        sc.w    x15, x2, (x1)
        CHECK   x15, 1
        lw      x14, 0(x1)
        CHECK   x14, 222
        /* sc to another address than the reserved one fails, no store */
        TEST_BEGIN
        li      x2, 444
        sw      x2, 8(x1)
        lr.w    x14, (x1)
        CHECK   x14, 222
        addi    x13, x1, 8
        li      x2, 555
        sc.w    x15, x2, (x13)
        CHECK   x15, 1
        lw      x14, 8(x1)
        CHECK   x14, 444
        lw      x14, 0(x1)
        CHECK   x14, 222
        /* ... and does not leave the reservation usable */
        TEST_BEGIN
        li      x2, 666
        sc.w    x15, x2, (x1)
        CHECK   x15, 1
        lw      x14, 0(x1)
        CHECK   x14, 222
        /* lr.w sign-extends; aq/rl variants; sc rd = rs2 */
        TEST_BEGIN
        li      x2, -0x80000000
        sw      x2, 0(x1)
        lr.w.aq x14, (x1)
        CHECK   x14, -0x80000000
        li      x2, 0x7ffffff0
        sc.w.rl x2, x2, (x1)
        CHECK   x2, 0
        lw      x14, 0(x1)
        CHECK   x14, 0x7ffffff0
        /* lr.w.aqrl / sc.w.aqrl */
        TEST_BEGIN
        lr.w.aqrl x14, (x1)
        CHECK   x14, 0x7ffffff0
        li      x2, -7
        sc.w.aqrl x15, x2, (x1)
        CHECK   x15, 0
        lw      x14, 0(x1)
        CHECK   x14, -7

#if __riscv_xlen == 64
        /* ---- lr.d / sc.d ---- */
        TEST_BEGIN
        li      x2, 0x8000000000000001
        sd      x2, 0(x1)
        lr.d    x14, (x1)
        CHECK   x14, 0x8000000000000001
        li      x2, 0x123456789abcdef0
        sc.d    x15, x2, (x1)
        CHECK   x15, 0
        ld      x14, 0(x1)
        CHECK   x14, 0x123456789abcdef0
        TEST_BEGIN
        sc.d    x15, x0, (x1)
        CHECK   x15, 1
        ld      x14, 0(x1)
        CHECK   x14, 0x123456789abcdef0
        TEST_BEGIN
        lr.d.aqrl x14, (x1)
        addi    x13, x1, 8
        sc.d.rl x15, x0, (x13)
        CHECK   x15, 1
        ld      x14, 0(x1)
        CHECK   x14, 0x123456789abcdef0
#endif

        /* ---- AMO .w ---- */
        TEST_AMO_W amoswap.w, 0x12345678, -2, 0x12345678, -2
        TEST_AMO_W amoswap.w, -0x80000000, 1, -0x80000000, 1
        TEST_AMO_W amoadd.w, 0x7fffffff, 1, 0x7fffffff, -0x80000000
        TEST_AMO_W amoadd.w, 5, -7, 5, -2
        TEST_AMO_W amoadd.w, -1, -1, -1, -2
        TEST_AMO_W amoxor.w, 0x55aa55aa, -1, 0x55aa55aa, -0x55aa55ab
        TEST_AMO_W amoxor.w, -0x0f0f0f10, 0x0ff00ff0, -0x0f0f0f10, -0x00ff0100
        TEST_AMO_W amoand.w, -1, 0x0f0f0f0f, -1, 0x0f0f0f0f
        TEST_AMO_W amoand.w, -0x7ffffff1, -2, -0x7ffffff1, -0x7ffffff2
        TEST_AMO_W amoor.w, -0x80000000, 1, -0x80000000, -0x7fffffff
        TEST_AMO_W amoor.w, 0x00ff0000, 0x0000ff00, 0x00ff0000, 0x00ffff00
        TEST_AMO_W amomin.w, -0x80000000, 1, -0x80000000, -0x80000000
        TEST_AMO_W amomin.w, 5, -3, 5, -3
        TEST_AMO_W amomin.w, -3, 5, -3, -3
        TEST_AMO_W amomin.w, 0x7fffffff, -0x80000000, 0x7fffffff, -0x80000000
        TEST_AMO_W amomax.w, 5, -3, 5, 5
        TEST_AMO_W amomax.w, -3, 5, -3, 5
        TEST_AMO_W amomax.w, -0x80000000, 0x7fffffff, -0x80000000, 0x7fffffff
        TEST_AMO_W amominu.w, 5, -3, 5, 5
        TEST_AMO_W amominu.w, -0x80000000, 1, -0x80000000, 1
        TEST_AMO_W amominu.w, -1, -2, -1, -2
        TEST_AMO_W amomaxu.w, 5, -3, 5, -3
        TEST_AMO_W amomaxu.w, -0x80000000, 0x7fffffff, -0x80000000, -0x80000000
        TEST_AMO_W amomaxu.w, 0, 0, 0, 0
        /* aq / rl / aqrl encodings */
        TEST_AMO_W amoadd.w.aq, 40, 2, 40, 42
        TEST_AMO_W amoswap.w.rl, 1, 2, 1, 2
        TEST_AMO_W amomaxu.w.aqrl, 3, 9, 3, 9
#if __riscv_xlen == 64
        /* .w ignores the upper 32 bits of rs2 */
        TEST_AMO_W amoadd.w, 1, 0x100000001, 1, 2
        TEST_AMO_W amominu.w, -0x80000000, 0xffffffff00000001, -0x80000000, 1
        TEST_AMO_W amomax.w, 5, 0xffffffff, 5, 5
        TEST_AMO_W amomin.w, 5, 0xffffffff, 5, -1
        TEST_AMO_W amomaxu.w, 5, 0x1fffffffe, 5, -2
        TEST_AMO_W amoswap.w, 0, 0xabcdef0080000000, 0, -0x80000000

        /* ---- AMO .d ---- */
        TEST_AMO_D amoswap.d, 0x123456789abcdef0, -2, 0x123456789abcdef0, -2
        TEST_AMO_D amoadd.d, 0x7fffffffffffffff, 1, 0x7fffffffffffffff, 0x8000000000000000
        TEST_AMO_D amoadd.d, 0xffffffff, 1, 0xffffffff, 0x100000000
        TEST_AMO_D amoxor.d, 0x00ff00ff00ff00ff, -1, 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00
        TEST_AMO_D amoand.d, 0xf0f0f0f0f0f0f0f0, 0xffffffff00000000, 0xf0f0f0f0f0f0f0f0, 0xf0f0f0f000000000
        TEST_AMO_D amoor.d, 0x8000000000000000, 1, 0x8000000000000000, 0x8000000000000001
        TEST_AMO_D amomin.d, 0x8000000000000000, 1, 0x8000000000000000, 0x8000000000000000
        TEST_AMO_D amomin.d, 5, -3, 5, -3
        TEST_AMO_D amomin.d, 0x100000000, 0xffffffff, 0x100000000, 0xffffffff
        TEST_AMO_D amomax.d, 5, -3, 5, 5
        TEST_AMO_D amomax.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
        TEST_AMO_D amominu.d, 0x8000000000000000, 1, 0x8000000000000000, 1
        TEST_AMO_D amominu.d, 5, -3, 5, 5
        TEST_AMO_D amomaxu.d, 5, -3, 5, -3
        TEST_AMO_D amomaxu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000000
        TEST_AMO_D amoadd.d.aqrl, -1, -1, -1, -2
#endif

        /* ---- register aliasing ---- */
        /* rd = x0: memory is still updated */
        TEST_BEGIN
        lla     x1, amo_buf
        li      x2, 10
        sw      x2, 0(x1)
        li      x2, 5
        amoadd.w x0, x2, (x1)
        CHECK_X0
        lw      x14, 0(x1)
        CHECK   x14, 15
        /* rd = rs2: rd gets the old value, memory the old rs2 */
        TEST_BEGIN
        li      x2, 77
        amoswap.w x2, x2, (x1)
        CHECK   x2, 15
        lw      x14, 0(x1)
        CHECK   x14, 77
        /* rd = rs1: the address is read before rd is written */
        TEST_BEGIN
        li      x2, 3
        amoadd.w x1, x2, (x1)
        CHECK   x1, 77
        lla     x1, amo_buf
        lw      x14, 0(x1)
        CHECK   x14, 80

        /* ---- traps ---- */
        /* misaligned amoadd.w: mtval = address, no write. The privileged spec
         * says store/AMO address misaligned (6); QEMU 7.2 raises load address
         * misaligned (4) for misaligned AMOs. */
        TRAP_BEGIN
        lla     x1, amo_buf
        li      x2, 0x11223344
        sw      x2, 0(x1)
        sw      x2, 4(x1)
        addi    x13, x1, 2
        li      x14, 99
amo_mis:
        amoadd.w x14, x2, (x13)
        CHECK   s7, 1
        /* The privileged spec says store/AMO misaligned (6), which hemu
         * raises; QEMU 7.2 raises load misaligned (4). Accept both without
         * a branch (so QEMU's reference trace keeps the same path): 6 -> 4. */
        xori    t0, s4, 6
        seqz    t0, t0
        slli    t0, t0, 1
        sub     s4, s4, t0
        CHECK   s4, 4
        lla     x7, amo_mis
        CHECK_REG s5, x7
        CHECK_REG s6, x13
        CHECK   x14, 99
        lw      x14, 0(x1)
        CHECK   x14, 0x11223344
        lw      x14, 4(x1)
        CHECK   x14, 0x11223344
        /* misaligned amoswap.w by 1 */
        TRAP_BEGIN
        addi    x13, x1, 1
amo_mis1:
        amoswap.w x14, x2, (x13)
        CHECK   s7, 1
        /* The privileged spec says store/AMO misaligned (6), which hemu
         * raises; QEMU 7.2 raises load misaligned (4). Accept both without
         * a branch (so QEMU's reference trace keeps the same path): 6 -> 4. */
        xori    t0, s4, 6
        seqz    t0, t0
        slli    t0, t0, 1
        sub     s4, s4, t0
        CHECK   s4, 4
        lla     x7, amo_mis1
        CHECK_REG s5, x7
        CHECK_REG s6, x13
#if __riscv_xlen == 64
        /* misaligned amomax.d (4-aligned, not 8-aligned) */
        TRAP_BEGIN
        addi    x13, x1, 4
amo_mis_d:
        amomax.d x14, x2, (x13)
        CHECK   s7, 1
        /* The privileged spec says store/AMO misaligned (6), which hemu
         * raises; QEMU 7.2 raises load misaligned (4). Accept both without
         * a branch (so QEMU's reference trace keeps the same path): 6 -> 4. */
        xori    t0, s4, 6
        seqz    t0, t0
        slli    t0, t0, 1
        sub     s4, s4, t0
        CHECK   s4, 4
        lla     x7, amo_mis_d
        CHECK_REG s5, x7
        CHECK_REG s6, x13
#endif
        /* misaligned lr.w: load address misaligned */
        TRAP_BEGIN
        addi    x13, x1, 2
lr_mis:
        lr.w    x14, (x13)
        CHECK   s7, 1
        CHECK   s4, 4
        lla     x7, lr_mis
        CHECK_REG s5, x7
        CHECK_REG s6, x13
        /* AMO on the unmapped address 0: an access fault, mtval = 0. The
         * privileged spec says store/AMO access fault (7), which hemu
         * raises; QEMU 7.2 raises a load access fault (5). Accept both
         * without a branch, as for the misaligned AMO: 7 -> 5. */
        TRAP_BEGIN
amo_fault:
        amoor.w x14, x2, (x0)
        CHECK   s7, 1
        xori    t0, s4, 7
        seqz    t0, t0
        slli    t0, t0, 1
        sub     s4, s4, t0
        CHECK_MTRAP 5, amo_fault, 0
        /* lr.w on address 0: load access fault */
        TRAP_BEGIN
lr_fault:
        lr.w    x14, (x0)
        CHECK   s7, 1
        CHECK_MTRAP 5, lr_fault, 0

        RVTEST_END a

        .data
        .balign 16
amo_buf:
        .dword  0, 0, 0, 0
