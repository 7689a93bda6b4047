/*
 * Self-checking test of the ARMv7-M Thumb instruction set (no exceptions):
 * 16- and 32-bit data processing with every flag result, shifts at their
 * edges (0, 1, 31, 32, 33, 255), modified immediates, bit fields,
 * saturation and Q, multiplies and divides, extends and byte reversal,
 * every load/store addressing form, exclusives, branches (all conditions,
 * CBZ, TBB/TBH, BL/BLX) and IT blocks (16-bit instructions inside one set
 * no flags; the last one may branch).
 *
 * Prints "thumb: all tests passed\n" and exits 0, or "FAIL <n>\n" and
 * exits with status n for the first failing test case n.
 */
#include "armtest.h"

        .section .vectors, "a"
        .word   _stack_top
        .word   reset

        .text
        .thumb_func
        .global reset
reset:
        /* ---- 16-bit add/subtract and their flags */
        TEST 1
        movs    r1, #1
        mvns    r2, r1              @ r2 = 0xfffffffe
        adds    r3, r2, r1          @ 0xffffffff
        CHECK_NZCV 0x8
        CHECK   r3, 0xffffffff
        TEST 2
        adds    r3, r3, r1          @ 0 with carry
        CHECK_NZCV 0x6
        CHECK   r3, 0
        TEST 3
        ldr     r1, =0x7fffffff
        adds    r3, r1, #1          @ signed overflow
        CHECK_NZCV 0x9
        CHECK   r3, 0x80000000
        TEST 4
        subs    r3, r3, #1          @ 0x7fffffff, overflow, no borrow
        CHECK_NZCV 0x3
        TEST 5
        movs    r1, #3
        movs    r2, #5
        subs    r3, r1, r2          @ borrow
        CHECK_NZCV 0x8
        CHECK   r3, 0xfffffffe
        TEST 6
        cmp     r2, r1
        CHECK_NZCV 0x2
        TEST 7
        cmp     r1, #3
        CHECK_NZCV 0x6
        TEST 8
        ldr     r1, =0x80000000
        cmn     r1, r1              @ 0 with carry and overflow
        CHECK_NZCV 0x7
        TEST 9
        SET_FLAGS 0x4               @ C
        movs    r1, #10
        movs    r2, #20
        adcs    r1, r2              @ 31
        CHECK_NZCV 0x0
        CHECK   r1, 31
        TEST 10
        SET_FLAGS 0x0
        movs    r1, #10
        sbcs    r1, r2              @ 10 - 20 - 1
        CHECK_NZCV 0x8
        CHECK   r1, 0xfffffff5
        TEST 11
        SET_FLAGS 0x4
        movs    r1, #20
        movs    r2, #10
        sbcs    r1, r2              @ 10, no borrow
        CHECK_NZCV 0x2
        CHECK   r1, 10
        TEST 12
        movs    r2, #0
        negs    r1, r2              @ 0 - 0: carry
        CHECK_NZCV 0x6
        TEST 13
        ldr     r2, =0x80000000
        negs    r1, r2
        CHECK_NZCV 0x9
        CHECK   r1, 0x80000000
        TEST 14
        movs    r1, #255
        adds    r1, #200
        subs    r1, #55
        CHECK   r1, 400
        TEST 15
        movs    r1, #7
        adds    r2, r1, #7
        subs    r3, r2, #3
        CHECK   r3, 11

        /* ---- 16-bit logic and multiply */
        TEST 20
        ldr     r1, =0xf0f0f0f0
        ldr     r2, =0x0ff00ff0
        mov     r3, r1
        SET_FLAGS 0x0
        ands    r3, r2
        CHECK_NZCV 0x0
        CHECK   r3, 0x00f000f0
        TEST 21
        mov     r3, r1
        SET_FLAGS 0x0
        orrs    r3, r2
        CHECK_NZCV 0x8
        CHECK   r3, 0xfff0fff0
        TEST 22
        mov     r3, r1
        eors    r3, r2
        CHECK   r3, 0xff00ff00
        TEST 23
        mov     r3, r1
        bics    r3, r2
        CHECK   r3, 0xf000f000
        TEST 24
        mvns    r3, r2
        CHECK   r3, 0xf00ff00f
        TEST 25
        SET_FLAGS 0xc               @ Z C: tst leaves C and V
        tst     r1, r2
        CHECK_NZCV 0x2
        TEST 26
        movs    r1, #0
        tst     r1, r2
        CHECK_NZCV 0x6
        TEST 27
        ldr     r1, =123456
        ldr     r2, =789
        muls    r2, r1, r2
        CHECK   r2, 97406784

        /* ---- shifts by immediates and registers, with carry out */
        TEST 30
        ldr     r1, =0x80000001
        lsls    r2, r1, #1
        CHECK_NZCV 0x2
        CHECK   r2, 2
        TEST 31
        lsrs    r2, r1, #1
        CHECK_NZCV 0x2
        CHECK   r2, 0x40000000
        TEST 32
        asrs    r2, r1, #1
        CHECK_NZCV 0xa
        CHECK   r2, 0xc0000000
        TEST 33
        lsrs    r2, r1, #32
        CHECK_NZCV 0x6
        TEST 34
        asrs    r2, r1, #32
        CHECK_NZCV 0xa
        CHECK   r2, 0xffffffff
        TEST 35
        SET_FLAGS 0x4
        movs    r2, r1              @ LSL #0: C kept
        CHECK_NZCV 0xa
        TEST 36
        movs    r3, #33
        mov     r2, r1
        lsls    r2, r3              @ by 33: 0, C = 0
        CHECK_NZCV 0x4
        TEST 37
        movs    r3, #32
        mov     r2, r1
        lsls    r2, r3              @ by 32: 0, C = bit 0
        CHECK_NZCV 0x6
        TEST 38
        movs    r3, #0
        SET_FLAGS 0x4
        mov     r2, r1
        lsrs    r2, r3              @ by 0: unchanged, C kept
        CHECK_NZCV 0xa
        CHECK   r2, 0x80000001
        TEST 39
        movs    r3, #255
        mov     r2, r1
        asrs    r2, r3
        CHECK_NZCV 0xa
        CHECK   r2, 0xffffffff
        TEST 40
        movs    r3, #31
        mov     r2, r1
        lsrs    r2, r3
        CHECK_NZCV 0x0
        CHECK   r2, 1
        TEST 41
        movs    r3, #4
        mov     r2, r1
        rors    r2, r3
        CHECK_NZCV 0x0
        CHECK   r2, 0x18000000
        TEST 42
        movs    r3, #64             @ ROR by a multiple of 32: C = bit 31
        mov     r2, r1
        rors    r2, r3
        CHECK_NZCV 0xa
        CHECK   r2, 0x80000001
        TEST 43
        ldr     r2, =0x12345678
        movs    r3, #0x108          @ only the low byte counts: 8
        lsrs    r2, r3
        CHECK   r2, 0x00123456

        /* ---- high registers and the pc */
        TEST 50
        movs    r0, #5
        mov     r8, r0
        movs    r0, #6
        add     r8, r0
        mov     r9, r8
        cmp     r9, r8
        CHECK_NZCV 0x6
        CHECK   r9, 11
        TEST 51
        adr     r1, 1f
        mov     r2, pc              @ this instruction + 4
1:      subs    r2, r2, r1
        CHECK   r2, 2
        TEST 52
        add     sp, #8
        sub     sp, #8
        add     r1, sp, #16
        mov     r2, sp
        subs    r1, r1, r2
        CHECK   r1, 16

        /* ---- 32-bit modified immediates and their carry */
        TEST 60
        mov.w   r1, #0x00ab00ab
        CHECK   r1, 0x00ab00ab
        TEST 61
        mov.w   r1, #0xab00ab00
        CHECK   r1, 0xab00ab00
        TEST 62
        mov.w   r1, #0xabababab
        CHECK   r1, 0xabababab
        TEST 63
        mov.w   r1, #0x00003fc0
        CHECK   r1, 0x00003fc0
        TEST 64
        SET_FLAGS 0x0
        movs.w  r1, #0x80000000     @ rotated: C = bit 31
        CHECK_NZCV 0xa
        TEST 65
        SET_FLAGS 0x4
        movs.w  r1, #0x55           @ not rotated: C kept
        CHECK_NZCV 0x2
        TEST 66
        mvn     r1, #0xff
        CHECK   r1, 0xffffff00
        TEST 67
        ldr     r2, =0x12345678
        and     r1, r2, #0xff00
        orr     r1, r1, #0x0f000000
        eor     r1, r1, #0x00010001
        bic     r1, r1, #0x0c000000
        orn     r1, r1, #0xfffffff0
        CHECK   r1, 0x0301560f
        TEST 68
        ldr     r2, =1000
        add     r1, r2, #0x10000
        sub     r1, r1, #0x200
        rsb     r1, r1, #0x20000
        CHECK   r1, 0x0000fe18
        TEST 69
        SET_FLAGS 0x4
        adc     r1, r2, #1
        sbc     r1, r1, #1
        CHECK   r1, 1001
        TEST 70
        adds    r1, r2, #0xfffffc00 @ 1000 - 1024
        CHECK_NZCV 0x8
        TEST 71
        subs    r1, r2, #1000
        CHECK_NZCV 0x6
        TEST 72
        rsbs    r1, r2, #0
        CHECK_NZCV 0x8
        TEST 73
        cmp     r2, #0x400
        CHECK_NZCV 0x8
        TEST 74
        cmn     r2, #0xfffffc18     @ 1000 + (-1000)
        CHECK_NZCV 0x6
        TEST 75
        tst     r2, #0x80000000
        CHECK_NZCV 0x6
        TEST 76
        teq     r2, #1000           @ a rotated immediate: C = its bit 31
        CHECK_NZCV 0x4

        /* ---- 32-bit plain immediates, bit fields, saturation */
        TEST 80
        movw    r1, #0xbeef
        movt    r1, #0xdead
        CHECK   r1, 0xdeadbeef
        TEST 81
        addw    r2, r1, #0x111
        subw    r2, r2, #0x112
        CHECK   r2, 0xdeadbeee
        TEST 82
        ubfx    r2, r1, #8, #12
        CHECK   r2, 0xdbe
        TEST 83
        sbfx    r2, r1, #20, #8
        CHECK   r2, 0xffffffea
        TEST 84
        mov     r2, #0
        bfi     r2, r1, #12, #8
        CHECK   r2, 0x000ef000
        TEST 85
        mvn     r2, #0
        bfc     r2, #0, #31
        CHECK   r2, 0x80000000
        TEST 86
        msr     apsr_nzcvq, r2      @ clear Q (r2 bit 27 is 0)
        ldr     r1, =100000
        ssat    r2, #16, r1
        CHECK   r2, 32767
        mrs     r3, apsr
        and     r3, r3, #0x08000000
        CHECK   r3, 0x08000000      @ Q set
        TEST 87
        movs    r3, #0
        msr     apsr_nzcvq, r3
        ldr     r1, =-100000
        ssat    r2, #16, r1
        CHECK   r2, 0xffff8000
        TEST 88
        movs    r1, #100
        ssat    r2, #16, r1, lsl #8
        CHECK   r2, 25600
        TEST 89
        ldr     r1, =-5
        usat    r2, #8, r1
        CHECK   r2, 0
        TEST 90
        ldr     r1, =0x1000
        usat    r2, #8, r1, asr #4
        CHECK   r2, 255
        TEST 91
        movs    r1, #200
        usat    r2, #8, r1
        CHECK   r2, 200

        /* ---- 32-bit shifted-register operands */
        TEST 100
        ldr     r1, =0x10
        ldr     r2, =0x80000003
        add     r3, r1, r2, lsl #2
        CHECK   r3, 0x0000001c
        TEST 101
        adds    r3, r1, r2, asr #1
        CHECK_NZCV 0x8
        CHECK   r3, 0xc0000011
        TEST 102
        SET_FLAGS 0x4
        and     r3, r2, r2, rrx     @ rrx: C into bit 31
        CHECK   r3, 0x80000001
        TEST 103
        SET_FLAGS 0x0
        ands    r3, r2, r2, lsr #1  @ C = bit 0 shifted out
        CHECK_NZCV 0x2
        CHECK   r3, 0x00000001
        TEST 104
        movs    r3, r2, lsl #1      @ lsls.w
        CHECK_NZCV 0x2
        CHECK   r3, 6
        TEST 105
        mov     r3, r2, ror #2
        CHECK   r3, 0xe0000000
        TEST 106
        SET_FLAGS 0x4
        rrxs    r3, r2
        CHECK_NZCV 0xa
        CHECK   r3, 0xc0000001
        TEST 107
        sub     r3, r2, r1, lsl #4  @ 0x80000003 - 0x100
        CHECK   r3, 0x7fffff03
        TEST 108
        rsb     r3, r1, r2, lsr #28 @ 8 - 0x10
        CHECK   r3, 0xfffffff8
        TEST 109
        orn     r3, r1, r2
        bic     r3, r3, r1
        eor     r3, r3, r2, ror #16
        CHECK   r3, 0x7ffc7fec
        TEST 110
        cmp     r1, r2, lsl #3      @ 0x10 - 0x18
        CHECK_NZCV 0x8
        TEST 111
        cmn     r1, r1
        tst     r2, r1, lsr #4      @ 0x80000003 & 1
        teq     r2, r2              @ C from the (lsl #0) shifter: kept
        CHECK_NZCV 0x4
        TEST 112
        SET_FLAGS 0x4
        adc     r3, r1, r1
        sbc     r3, r3, r1, lsl #1
        CHECK   r3, 1

        /* ---- register-controlled shifts (32-bit) */
        TEST 120
        ldr     r1, =0x80000001
        movs    r2, #33
        lsl     r3, r1, r2
        CHECK   r3, 0
        TEST 121
        movs    r2, #1
        lsrs    r3, r1, r2
        CHECK_NZCV 0x2
        CHECK   r3, 0x40000000
        TEST 122
        movs    r2, #100
        asrs    r3, r1, r2
        CHECK_NZCV 0xa
        TEST 123
        movs    r2, #36
        ror     r3, r1, r2
        CHECK   r3, 0x18000000

        /* ---- multiply and divide */
        TEST 130
        ldr     r1, =0x12345678
        ldr     r2, =0x9abcdef0
        mul     r3, r1, r2
        CHECK   r3, 0x242d2080
        TEST 131
        movs    r4, #100
        mla     r3, r1, r2, r4
        CHECK   r3, 0x242d20e4
        TEST 132
        mls     r3, r1, r2, r4
        CHECK   r3, 0xdbd2dfe4
        TEST 133
        umull   r3, r4, r1, r2
        CHECK   r3, 0x242d2080
        CHECK   r4, 0x0b00ea4e
        TEST 134
        smull   r3, r4, r1, r2
        CHECK   r3, 0x242d2080
        CHECK   r4, 0xf8cc93d6
        TEST 135
        movs    r3, #1
        movs    r4, #1
        umlal   r3, r4, r1, r2
        CHECK   r3, 0x242d2081
        CHECK   r4, 0x0b00ea4f
        TEST 136
        mvn     r3, #0
        mvn     r4, #0
        smlal   r3, r4, r1, r2
        CHECK   r3, 0x242d207f
        CHECK   r4, 0xf8cc93d6
        TEST 137
        ldr     r1, =1000003
        movs    r2, #7
        udiv    r3, r1, r2
        CHECK   r3, 142857
        TEST 138
        ldr     r1, =-1000003
        sdiv    r3, r1, r2
        CHECK   r3, -142857
        TEST 139
        movs    r2, #0
        udiv    r3, r1, r2          @ by zero: 0 (CCR.DIV_0_TRP clear)
        sdiv    r4, r1, r2
        orr     r3, r3, r4
        CHECK   r3, 0
        TEST 140
        ldr     r1, =0x80000000
        mvn     r2, #0
        sdiv    r3, r1, r2          @ overflow: the dividend
        CHECK   r3, 0x80000000

        /* ---- bit counting, reversal, extension */
        TEST 150
        ldr     r1, =0x00f00000
        clz     r2, r1
        CHECK   r2, 8
        TEST 151
        movs    r1, #0
        clz     r2, r1
        CHECK   r2, 32
        TEST 152
        ldr     r1, =0x12345678
        rbit    r2, r1
        CHECK   r2, 0x1e6a2c48
        TEST 153
        rev     r2, r1
        CHECK   r2, 0x78563412
        TEST 154
        rev16   r2, r1
        CHECK   r2, 0x34127856
        TEST 155
        ldr     r1, =0x000080ff
        revsh   r2, r1
        CHECK   r2, 0xffffff80
        TEST 156
        sxtb    r2, r1
        CHECK   r2, 0xffffffff
        TEST 157
        sxth    r2, r1
        CHECK   r2, 0xffff80ff
        TEST 158
        uxtb    r2, r1, ror #8
        CHECK   r2, 0x80
        TEST 159
        sxtb    r2, r1, ror #8
        CHECK   r2, 0xffffff80
        TEST 160
        uxth    r2, r1, ror #24
        CHECK   r2, 0xff00
        TEST 161
        rev.w   r2, r1              @ 0xff800000
        rev16.w r3, r1              @ 0x0000ff80
        revsh.w r4, r3              @ 0xffff80ff
        add     r4, r4, r2
        CHECK   r4, 0xff7f80ff

        /* ---- loads and stores */
        TEST 170
        ldr     r0, =buf
        ldr     r1, =0x11223344
        str     r1, [r0]
        ldrb    r2, [r0]
        CHECK   r2, 0x44
        TEST 171
        ldrb    r2, [r0, #3]
        ldrh    r3, [r0, #2]
        add     r2, r2, r3
        CHECK   r2, 0x1133
        TEST 172
        ldr     r1, =0x8081
        strh    r1, [r0, #4]
        ldrsh   r2, [r0, #4]
        CHECK   r2, 0xffff8081
        TEST 173
        movs    r3, #4
        ldrsb   r2, [r0, r3]
        CHECK   r2, 0xffffff81
        TEST 174
        movs    r3, #5
        ldrsb.w r2, [r0, r3]
        CHECK   r2, 0xffffff80
        TEST 175
        ldr     r2, [r0, #1]        @ unaligned word
        CHECK   r2, 0x81112233
        TEST 176
        ldrh    r2, [r0, #3]        @ unaligned halfword
        CHECK   r2, 0x8111
        TEST 177
        mov     r1, r0
        movs    r2, #0x5a
        strb    r2, [r1], #1
        strb    r2, [r1, #1]!
        subs    r1, r1, r0
        CHECK   r1, 2
        TEST 178
        ldr     r2, [r0]
        CHECK   r2, 0x115a335a
        TEST 179
        add     r1, r0, #8
        ldr     r2, [r1, #-8]
        ldr     r3, [r1, #-4]!
        subs    r1, r1, r0
        CHECK   r1, 4
        CHECK   r3, 0x00008081
        TEST 180
        movs    r3, #1
        ldr.w   r2, [r0, r3, lsl #2]
        CHECK   r2, 0x00008081
        TEST 181
        ldr     r1, =0x01020304
        ldr     r2, =0x05060708
        strd    r1, r2, [r0, #8]
        ldrd    r3, r4, [r0, #8]
        CHECK   r3, 0x01020304
        CHECK   r4, 0x05060708
        TEST 182
        add     r5, r0, #8
        ldrd    r3, r4, [r5], #8
        subs    r5, r5, r0
        CHECK   r5, 16
        TEST 183
        mov     r5, r0
        strd    r2, r1, [r5, #8]!
        ldr     r3, [r0, #8]
        CHECK   r3, 0x05060708
        TEST 184
        movs    r1, #0x77
        strh.w  r1, [r0, #-0]
        strb.w  r1, [r0, #2]
        ldr     r2, [r0]
        CHECK   r2, 0x11770077
        TEST 185
        ldr     r2, lit1
        ldr.w   r3, lit1
        subs    r2, r2, r3
        CHECK   r2, 0
        TEST 186
        ldrb.w  r2, lit1
        ldrsh.w r3, lit1
        adds    r2, r2, r3
        CHECK   r2, 0x4fc
        TEST 187
        ldr     r2, =buf
        ldrt    r3, [r2, #8]
        CHECK   r3, 0x05060708
        TEST 188
        ldrex   r3, [r2]
        add     r3, r3, #1
        strex   r4, r3, [r2]
        CHECK   r4, 0
        TEST 189
        strex   r4, r3, [r2]        @ no reservation any more
        CHECK   r4, 1
        TEST 190
        ldrex   r3, [r2]
        clrex
        strex   r4, r3, [r2]
        CHECK   r4, 1
        TEST 191
        ldrexb  r3, [r2]
        strexb  r4, r3, [r2]
        ldrexh  r3, [r2]
        strexh  r5, r3, [r2]
        orrs    r4, r5
        CHECK   r4, 0

        /* ---- load/store multiple */
        TEST 200
        ldr     r0, =buf
        movs    r1, #1
        movs    r2, #2
        movs    r3, #3
        stmia   r0!, {r1, r2, r3}
        ldr     r4, =buf + 12
        subs    r4, r0, r4
        CHECK   r4, 0
        TEST 201
        ldr     r0, =buf
        ldmia   r0, {r0, r1}        @ base in the list: no writeback
        CHECK   r0, 1
        CHECK   r1, 2
        TEST 202
        ldr     r0, =buf + 12
        ldmdb   r0!, {r4, r5, r6}
        CHECK   r6, 3
        ldr     r1, =buf
        subs    r1, r0, r1
        CHECK   r1, 0
        TEST 203
        mov     r8, #8
        mov     r9, #9
        stmdb   r0, {r1, r8, r9}    @ below buf: the stack guard word area
        ldr     r0, =buf
        add     r1, r0, #32
        stmia.w r1!, {r4-r6, r8, r9}
        ldmia.w r0, {r1-r3}
        ldr     r4, =buf + 32
        ldmia.w r4, {r1-r5}
        adds    r1, r5
        CHECK   r1, 10
        TEST 204
        push    {r4, r5, lr}
        push.w  {r8, r9}
        pop.w   {r1, r2}
        pop     {r3, r4, r5}
        adds    r1, r2
        CHECK   r1, 17

        /* ---- branches */
        TEST 210
        movs    r1, #0
        cbz     r1, 1f
        b       fail
1:      cbnz    r1, 12f
        movs    r1, #1
        cbnz    r1, 2f
12:     b       fail
2:
        TEST 211
        bl      sub_ret7
        CHECK   r0, 7
        TEST 212
        ldr     r1, =sub_ret7
        blx     r1
        CHECK   r0, 7
        TEST 213
        adr     r1, 3f
        adds    r1, #1
        bx      r1
        b       fail
        .balign 4
3:      TEST 214
        movs    r1, #2
        tbb     [pc, r1]
4:      .byte   (5f - 4b) / 2, (5f - 4b) / 2, (6f - 4b) / 2, (5f - 4b) / 2
5:      b       fail
6:      TEST 215
        movs    r1, #1
        tbh     [pc, r1, lsl #1]
7:      .hword  (8f - 7b) / 2, (9f - 7b) / 2
8:      b       fail
9:
        /* Every condition, taken and not taken. */
        TEST 216
        SET_FLAGS 0xc               @ Z C
        bcc     fail_far
        bhi     fail_far
        bne     fail_far
        bmi     fail_far
        bvs     fail_far
        blt     fail_far
        bgt     fail_far
        bcs     1f
        b       fail
1:      bls     2f
        b       fail
2:      bpl     3f
        b       fail
3:      bge     13f
        b       fail
13:     ble     4f
        b       fail
4:      SET_FLAGS 0x1a              @ N Z V
        bne.w   fail_far
        bgt.w   fail_far
        blt.w   fail_far
        bls.w   5f
        b       fail
5:      bvs.w   6f
        b       fail
6:      bge     7f
        b       fail
7:      SET_FLAGS 0x10              @ N only: lt
        bge     fail_far
        blt     8f
        b       fail
8:
        /* ---- IT blocks */
        TEST 220
        movs    r1, #5
        cmp     r1, #5
        ite     eq
        moveq   r2, #1
        movne   r2, #2
        CHECK   r2, 1
        TEST 221
        cmp     r1, #4
        itete   gt
        addgt   r2, r1, #1          @ 16-bit: no flags inside IT
        addle   r2, r1, #2
        subgt   r2, r2, #1
        suble   r2, r2, #3
        CHECK   r2, 5
        TEST 222
        movs    r3, #0
        cmp     r3, #0
        itt     ne
        movne   r3, #1
        addne   r3, #1
        CHECK   r3, 0
        TEST 223
        cmp     r1, #6              @ 5 < 6: borrow, N set
        ittt    lt
        movlt   r3, #7
        addlt   r3, #1              @ 16-bit: no flags
        addslt.w r3, r3, #0         @ 32-bit with S: sets flags
        CHECK_NZCV 0x0
        CHECK   r3, 8
        TEST 224
        SET_FLAGS 0x8               @ Z
        it      eq
        beq     1f                  @ a branch ends the block
        b       fail
1:      TEST 225
        movs    r4, #0
        cmp     r4, #0
        itttt   eq
        addeq   r4, #1
        addeq   r4, #2
        addeq   r4, #4
        addeq   r4, #8
        CHECK   r4, 15
        TEST 226
        cmp     r4, #15
        iteee   ne
        movne   r4, #1
        moveq   r4, #2
        addeq   r4, #3
        lsleq   r4, r4, #1
        CHECK   r4, 10
        TEST 227
        ldr     r5, =buf
        mov     r6, #0x42
        cmp     r6, #0x42
        itet    eq
        streq   r6, [r5]
        strne   r6, [r5, #4]
        ldreq   r7, [r5]
        CHECK   r7, 0x42
        TEST 228
        movs    r1, #1
        cmp     r1, #1
        it      ne
        bne     fail_far
        it      eq
        bleq    sub_ret7
        CHECK   r0, 7

        ldr     r0, =pass_msg
        bl      puts
        movs    r0, #0
        b       exit

        .thumb_func
sub_ret7:
        movs    r0, #7
        bx      lr

        .balign 4
lit1:   .word   0xbfff03fe

        .thumb_func
fail_far:
        b       fail

        GUEST_ROUTINES

        .section .rodata
pass_msg: .asciz "thumb: all tests passed\n"

        .bss
        .balign 8
        .space  16
buf:    .space  64
