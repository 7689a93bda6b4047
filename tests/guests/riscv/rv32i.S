/*
 * Self-checking test of every RV32I instruction, with edge cases: sign
 * extension, shifts by 0/1/31 and shift amounts masked to 5 bits, overflow
 * wrap, writes to x0, negative offsets, branches taken and not taken in both
 * directions, signed versus unsigned compares. ecall/ebreak are left out
 * (they trap).
 *
 * Prints "rv32i: all tests passed\n" and exits 0, or "FAIL <n>\n" and exits
 * with code n for the first failing test case n. See test_macros.h.
 */
#include "test_macros.h"

        .section .text.init
        .globl  _start
_start:
        CLEAR_XREGS
        lla     sp, _stack_top

        /* ---- lui ---- */
        TEST_BEGIN; lui x14, 0;       CHECK x14, 0
        TEST_BEGIN; lui x14, 0xfffff; CHECK x14, 0xfffff000
        TEST_BEGIN; lui x14, 0x7ffff; CHECK x14, 0x7ffff000
        TEST_BEGIN; lui x14, 0x80000; CHECK x14, 0x80000000
        TEST_BEGIN; lui x31, 0x12345; CHECK x31, 0x12345000
        TEST_BEGIN; lui x0, 0x80000;  CHECK_X0

        /* ---- auipc ---- */
        TEST_AUIPC 0, 0
        TEST_AUIPC 1, 0x1000
        TEST_AUIPC 0xfffff, -0x1000
        TEST_AUIPC 0x7ffff, 0x7ffff000
        TEST_AUIPC 0x80000, 0x80000000

        /* ---- jal ---- */
        /* forward; link = address of the next instruction */
        TEST_BEGIN
        jal     x1, 1f
2:      jal     x0, fail
1:      lla     x6, 2b
        CHECK_REG x1, x6
        /* backward, link in x31 */
        TEST_BEGIN
        jal     x0, 2f
1:      jal     x0, 3f
2:      jal     x31, 1b
4:      jal     x0, fail
3:      lla     x6, 4b
        CHECK_REG x31, x6
        /* rd = x0 */
        TEST_BEGIN
        jal     x0, 1f
        jal     x0, fail
1:      CHECK_X0

        /* ---- jalr ---- */
        TEST_BEGIN
        lla     x2, 1f
        jalr    x1, 0(x2)
2:      jal     x0, fail
1:      lla     x6, 2b
        CHECK_REG x1, x6
        /* positive offset, link in x19 */
        TEST_BEGIN
        lla     x2, 1f
        addi    x2, x2, -16
        jalr    x19, 16(x2)
2:      jal     x0, fail
1:      lla     x6, 2b
        CHECK_REG x19, x6
        /* negative offset; bit 0 of the target is cleared */
        TEST_BEGIN
        lla     x2, 1f
        addi    x2, x2, 21
        jalr    x1, -20(x2)
2:      jal     x0, fail
1:      lla     x6, 2b
        CHECK_REG x1, x6
        /* odd register value, rd = x0 */
        TEST_BEGIN
        lla     x2, 1f
        addi    x2, x2, 1
        jalr    x0, 0(x2)
        jal     x0, fail
1:      CHECK_X0
        /* rd == rs1: the target uses the old value */
        TEST_BEGIN
        lla     x1, 1f
        jalr    x1, 0(x1)
2:      jal     x0, fail
1:      lla     x6, 2b
        CHECK_REG x1, x6

        /* ---- branches ---- */
        TEST_BR2_TAKEN    beq, 0, 0
        TEST_BR2_TAKEN    beq, -1, -1
        TEST_BR2_NOTTAKEN beq, 0, 1
        TEST_BR2_NOTTAKEN beq, -1, 1
        TEST_BR2_NOTTAKEN beq, 0x80000000, 0

        TEST_BR2_TAKEN    bne, 0, 1
        TEST_BR2_TAKEN    bne, -1, 1
        TEST_BR2_TAKEN    bne, 0x80000000, 0
        TEST_BR2_NOTTAKEN bne, 0, 0
        TEST_BR2_NOTTAKEN bne, -1, -1

        TEST_BR2_TAKEN    blt, 0, 1
        TEST_BR2_TAKEN    blt, -1, 1
        TEST_BR2_TAKEN    blt, -2, -1
        TEST_BR2_TAKEN    blt, 0x80000000, 0x7fffffff
        TEST_BR2_NOTTAKEN blt, 1, -1
        TEST_BR2_NOTTAKEN blt, 0, 0
        TEST_BR2_NOTTAKEN blt, 0x7fffffff, 0x80000000

        TEST_BR2_TAKEN    bge, 0, 0
        TEST_BR2_TAKEN    bge, 1, -1
        TEST_BR2_TAKEN    bge, -1, -2
        TEST_BR2_TAKEN    bge, 0x7fffffff, 0x80000000
        TEST_BR2_NOTTAKEN bge, 0, 1
        TEST_BR2_NOTTAKEN bge, -1, 1
        TEST_BR2_NOTTAKEN bge, -2, -1

        TEST_BR2_TAKEN    bltu, 0, 1
        TEST_BR2_TAKEN    bltu, 1, -1
        TEST_BR2_TAKEN    bltu, 0x7fffffff, 0x80000000
        TEST_BR2_NOTTAKEN bltu, -1, 1
        TEST_BR2_NOTTAKEN bltu, 0, 0
        TEST_BR2_NOTTAKEN bltu, 0x80000000, 0x7fffffff

        TEST_BR2_TAKEN    bgeu, 0, 0
        TEST_BR2_TAKEN    bgeu, -1, 1
        TEST_BR2_TAKEN    bgeu, 0x80000000, 0x7fffffff
        TEST_BR2_NOTTAKEN bgeu, 0, 1
        TEST_BR2_NOTTAKEN bgeu, 1, -1
        TEST_BR2_NOTTAKEN bgeu, 0x7fffffff, 0x80000000

        /* ---- loads ---- */
        TEST_LD_OP lb, 0xffffffff, 0, tdat_b
        TEST_LD_OP lb, 0, 1, tdat_b
        TEST_LD_OP lb, 0x7f, 5, tdat_b
        TEST_LD_OP lb, 0xffffff80, -4, tdat_h

        TEST_LD_OP lbu, 0xff, 0, tdat_b
        TEST_LD_OP lbu, 0xf0, 2, tdat_b
        TEST_LD_OP lbu, 0x80, 4, tdat_b
        TEST_LD_OP lbu, 0xfe, -1, tdat_h

        TEST_LD_OP lh, 0xff, 0, tdat_h
        TEST_LD_OP lh, 0xffffff00, 2, tdat_h
        TEST_LD_OP lh, 0xffff8000, 8, tdat_h
        TEST_LD_OP lh, 0x7fff, 10, tdat_h
        TEST_LD_OP lh, 0xfffffffe, -2, tdat_w

        TEST_LD_OP lhu, 0xff00, 2, tdat_h
        TEST_LD_OP lhu, 0x8000, 8, tdat_h
        TEST_LD_OP lhu, 0x0001, -4, tdat_w

        TEST_LD_OP lw, 0x00ff00ff, 0, tdat_w
        TEST_LD_OP lw, 0xff00ff00, 4, tdat_w
        TEST_LD_OP lw, 0x80000000, 16, tdat_w
        TEST_LD_OP lw, 0x7fffffff, 20, tdat_w
        TEST_LD_OP lw, 0xf00ff00f, -12, tdat_end

        TEST_LD_SRC1_EQ_DEST lw, 0xff00ff00, 4, tdat_w
        /* rd = x0 */
        TEST_BEGIN; lla x1, tdat_b; lb x0, 0(x1); CHECK_X0

        /* ---- stores (sop, lop, result, val, k, offset, base, fill, word) ---- */
        TEST_ST_OP sb, lb,  0xfffffff5, 0x123456f5, 0, 0, sdat, 0xaaaaaaaa, 0xaaaaaaf5
        TEST_ST_OP sb, lbu, 0x3c, 0x3c, 3, -3, sdat, 0xaaaaaaaa, 0x3caaaaaa
        TEST_ST_OP sb, lb,  0xffffffff, -1, 1, 1, sdat, 0xaaaaaaaa, 0xaaaaffaa
        TEST_ST_OP sh, lh,  0xffff8001, 0x12348001, 2, 2, sdat, 0xaaaaaaaa, 0x8001aaaa
        TEST_ST_OP sh, lhu, 0x7ff0, 0x7ff0, 0, -2, sdat, 0xaaaaaaaa, 0xaaaa7ff0
        TEST_ST_OP sw, lw,  0x89abcdef, 0x89abcdef, 0, 0, sdat, 0xaaaaaaaa, 0x89abcdef
        TEST_ST_OP sw, lw,  0xdeadbeef, 0xdeadbeef, 0, -8, sdat, 0, 0xdeadbeef
        TEST_ST_OP sw, lw,  0x12345678, 0x12345678, 0, 8, sdat, 0, 0x12345678
        /* storing x0 stores zero */
        TEST_BEGIN
        lla     x1, sdat
        li      x2, -1
        sw      x2, 0(x1)
        sh      x0, 2(x1)
        lw      x14, 0(x1)
        CHECK   x14, 0x0000ffff

        /* ---- register-immediate ---- */
        TEST_IMM_OP addi, 0x80000000, 0x7fffffff, 1
        TEST_IMM_OP addi, 0xfffff800, 0, -2048
        TEST_IMM_OP addi, 0x7fffffff, 0x80000000, -1
        TEST_IMM_OP addi, 0, -1, 1
        TEST_IMM_SRC1_EQ_DEST addi, 24, 13, 11
        TEST_IMM_REGS addi, 0x14, 0x10, 4, x31, x30
        TEST_IMM_ZERODEST addi, 5, 7

        TEST_IMM_OP slti, 1, -1, 0
        TEST_IMM_OP slti, 0, 0, -1
        TEST_IMM_OP slti, 0, 0, 0
        TEST_IMM_OP slti, 1, 0x80000000, 0
        TEST_IMM_OP slti, 1, -2049, -2048
        TEST_IMM_OP slti, 0, 0x7fffffff, -1

        TEST_IMM_OP sltiu, 1, 0, 1
        TEST_IMM_OP sltiu, 0, 0, 0
        TEST_IMM_OP sltiu, 1, 1, -1
        TEST_IMM_OP sltiu, 0, -1, -1
        TEST_IMM_OP sltiu, 0, -1, 0x7ff
        TEST_IMM_OP sltiu, 1, 0xfffff7ff, -2048

        TEST_IMM_OP xori, 0xff00f00f, 0x00ff0f00, -241
        TEST_IMM_OP xori, 0x0ff00f00, 0x0ff00ff0, 0x0f0
        TEST_IMM_OP xori, 0xffffedcb, 0x1234, -1
        TEST_IMM_SRC1_EQ_DEST xori, 0, -1, -1

        TEST_IMM_OP ori, 0xffffff0f, 0xff00ff00, -241
        TEST_IMM_OP ori, 0x0ff00fff, 0x0ff00ff0, 0x70f
        TEST_IMM_OP ori, 0, 0, 0

        TEST_IMM_OP andi, 0xff00ff00, 0xff00ff00, -241
        TEST_IMM_OP andi, 0xf0, 0x0ff00ff0, 0x0f0
        TEST_IMM_OP andi, 0x7ff, -1, 0x7ff
        TEST_IMM_OP andi, 0x00ff0000, 0x00ff00ff, -2048

        TEST_IMM_OP slli, 1, 1, 0
        TEST_IMM_OP slli, 2, 1, 1
        TEST_IMM_OP slli, 0x80000000, 1, 31
        TEST_IMM_OP slli, 0x80000000, -1, 31
        TEST_IMM_OP slli, 0x48484000, 0x21212121, 14

        TEST_IMM_OP srli, 0x80000000, 0x80000000, 0
        TEST_IMM_OP srli, 0x40000000, 0x80000000, 1
        TEST_IMM_OP srli, 1, 0x80000000, 31
        TEST_IMM_OP srli, 0xffff, -1, 16
        TEST_IMM_OP srli, 1, -1, 31

        TEST_IMM_OP srai, 0xc0000000, 0x80000000, 1
        TEST_IMM_OP srai, 0xffffffff, 0x80000000, 31
        TEST_IMM_OP srai, 0, 0x7fffffff, 31
        TEST_IMM_OP srai, 0x7fffffff, 0x7fffffff, 0
        TEST_IMM_OP srai, 0xffffffff, -1, 0
        TEST_IMM_OP srai, 0xc0c0c0c0, 0x81818181, 1

        /* ---- register-register ---- */
        TEST_RR_OP add, 2, 1, 1
        TEST_RR_OP add, 0x80000000, 0x7fffffff, 1
        TEST_RR_OP add, 0, -1, 1
        TEST_RR_OP add, 0, 0x80000000, 0x80000000
        TEST_RR_OP add, 0xfffffffe, 0xffffffff, 0xffffffff
        TEST_RR_SRC1_EQ_DEST add, 24, 13, 11
        TEST_RR_SRC2_EQ_DEST add, 25, 14, 11
        TEST_RR_SRC12_EQ_DEST add, 26, 13
        TEST_RR_ZERODEST add, 1, 2
        TEST_RR_REGS add, 0x300, 0x100, 0x200, x31, x30, x29

        TEST_RR_OP sub, 0, 0, 0
        TEST_RR_OP sub, 0xfffffffc, 3, 7
        TEST_RR_OP sub, 0x7fffffff, 0x80000000, 1
        TEST_RR_OP sub, 0x80000000, 0, 0x80000000
        TEST_RR_OP sub, 1, 0, -1
        TEST_RR_SRC2_EQ_DEST sub, 2, 13, 11
        TEST_RR_SRC12_EQ_DEST sub, 0, 13

        TEST_RR_OP sll, 1, 1, 0
        TEST_RR_OP sll, 0x80000000, 1, 31
        TEST_RR_OP sll, 1, 1, 32
        TEST_RR_OP sll, 0x80000000, 1, 63
        TEST_RR_OP sll, 2, 1, 0xffffffe1
        TEST_RR_OP sll, 0x23456780, 0x12345678, 4

        TEST_RR_OP slt, 0, 0, 0
        TEST_RR_OP slt, 1, -1, 1
        TEST_RR_OP slt, 0, 1, -1
        TEST_RR_OP slt, 1, 0x80000000, 0x7fffffff
        TEST_RR_OP slt, 0, 0x7fffffff, 0x80000000

        TEST_RR_OP sltu, 1, 0, 1
        TEST_RR_OP sltu, 0, 1, 0
        TEST_RR_OP sltu, 0, -1, 1
        TEST_RR_OP sltu, 1, 1, -1
        TEST_RR_OP sltu, 0, 0, 0
        TEST_RR_OP sltu, 1, 0x7fffffff, 0x80000000

        TEST_RR_OP xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f
        TEST_RR_OP xor, 0xff00ff00, -1, 0x00ff00ff
        TEST_RR_SRC12_EQ_DEST xor, 0, 0x1234

        TEST_RR_OP srl, 0x80000000, 0x80000000, 0
        TEST_RR_OP srl, 1, 0x80000000, 31
        TEST_RR_OP srl, 0x80000000, 0x80000000, 32
        TEST_RR_OP srl, 0xffff, -1, 16
        TEST_RR_OP srl, 1, -1, -1

        TEST_RR_OP sra, 0xc0000000, 0x80000000, 1
        TEST_RR_OP sra, 0xffffffff, 0x80000000, 31
        TEST_RR_OP sra, 0, 0x7fffffff, 31
        TEST_RR_OP sra, 0x80000000, 0x80000000, 32
        TEST_RR_OP sra, 0xffffffff, 0x80000000, 63
        TEST_RR_OP sra, 0x3fffffff, 0x7fffffff, 1

        TEST_RR_OP or, 0xff0fff0f, 0xff00ff00, 0x0f0f0f0f
        TEST_RR_OP or, 0xffffffff, 0x00ff00ff, 0xff00ff00
        TEST_RR_ZERODEST or, 1, 2

        TEST_RR_OP and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f
        TEST_RR_OP and, 0x80000001, -1, 0x80000001
        TEST_RR_OP and, 0, 0x00ff00ff, 0xff00ff00

        /* ---- fence ---- */
        TEST_BEGIN
        lla     x1, sdat
        li      x2, 0x55
        sw      x2, 0(x1)
        fence
        fence   rw, rw
        fence.tso
        lw      x14, 0(x1)
        CHECK   x14, 0x55

        jal     x0, pass

        TEST_PASSFAIL pass_msg

        .section .rodata
pass_msg:
        .asciz  "rv32i: all tests passed\n"

        .data
        .balign 16
tdat_b: .byte   0xff, 0x00, 0xf0, 0x0f, 0x80, 0x7f, 0x01, 0xfe
tdat_h: .half   0x00ff, 0xff00, 0x0ff0, 0xf00f, 0x8000, 0x7fff, 0x0001, 0xfffe
tdat_w: .word   0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f, 0x80000000, 0x7fffffff
tdat_end:
        .balign 8
sdat:   .word   0, 0
