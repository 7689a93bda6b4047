/*
 * Self-checking test of the Cortex-M4's DSP extension: parallel
 * add/subtract in all 36 flavours (plain with GE, saturating, halving;
 * signed and unsigned; ADD8/SUB8/ADD16/SUB16/ASX/SAX), SEL, QADD/QSUB/
 * QDADD/QDSUB and Q, SSAT16/USAT16, the extend-and-add forms, PKHBT/
 * PKHTB, the 16-bit and dual multiplies, SMMUL/SMMLA/SMMLS, USAD8/USADA8
 * and the long multiply-accumulates.
 *
 * Built with -mcpu=cortex-m4; run on `-M mps2-an386`. Every parallel
 * result is folded into a checksum (r6) with its GE flags, read back
 * through SEL. Prints "dsp: all tests passed\n" and exits 0, or
 * "FAIL <n>\n" and exits n.
 */
#include "armtest.h"

        .section .vectors, "a"
        .word   _stack_top
        .word   reset

/* r6 = r6 * 31 + r0, and r6 ^= GE (seen through SEL). */
.macro FOLD
        mov     r9, #31
        mla     r6, r6, r9, r0
        mov     r9, #-1
        mov     r10, #0
        sel     r9, r9, r10
        eor     r6, r6, r9
.endm

.macro PAR op
        \op     r0, r1, r2
        FOLD
        \op     r0, r2, r1
        FOLD
        \op     r0, r3, r4
        FOLD
.endm

        .text
        .thumb_func
        .global reset
reset:
        TEST 1
        ldr     r1, =0x7f80ff01
        ldr     r2, =0x80017f80
        ldr     r3, =0x12345678
        ldr     r4, =0xfedcba98
        movs    r6, #0
        PAR     sadd8
        PAR     ssub8
        PAR     sadd16
        PAR     ssub16
        PAR     sasx
        PAR     ssax
        PAR     uadd8
        PAR     usub8
        PAR     uadd16
        PAR     usub16
        PAR     uasx
        PAR     usax
        PAR     qadd8
        PAR     qsub8
        PAR     qadd16
        PAR     qsub16
        PAR     qasx
        PAR     qsax
        PAR     uqadd8
        PAR     uqsub8
        PAR     uqadd16
        PAR     uqsub16
        PAR     uqasx
        PAR     uqsax
        PAR     shadd8
        PAR     shsub8
        PAR     shadd16
        PAR     shsub16
        PAR     shasx
        PAR     shsax
        PAR     uhadd8
        PAR     uhsub8
        PAR     uhadd16
        PAR     uhsub16
        PAR     uhasx
        PAR     uhsax
        CHECK   r6, 0x97ae56ee      @ as QEMU computes it (traced)

        TEST 2
        ldr     r1, =0x7fffffff
        movs    r2, #1
        mov     r0, #0
        msr     apsr_nzcvq, r0
        qadd    r0, r1, r2
        CHECK   r0, 0x7fffffff
        mrs     r0, apsr
        and     r0, r0, #0x08000000
        CHECK   r0, 0x08000000
        TEST 3
        ldr     r1, =0xc0000000
        qdadd   r0, r2, r1          @ 1 + sat(2 * -2^30)
        CHECK   r0, 0x80000001
        qsub    r0, r2, r1          @ 1 - (-2^30)
        CHECK   r0, 0x40000001
        qdsub   r0, r2, r1
        CHECK   r0, 0x7fffffff

        TEST 4
        ldr     r1, =0x0100ff00
        ssat16  r0, #8, r1
        CHECK   r0, 0x007fff80
        usat16  r0, #4, r1
        CHECK   r0, 0x000f0000
        ldr     r1, =0xfff08000
        ssat16  r0, #16, r1
        CHECK   r0, 0xfff08000

        TEST 5
        ldr     r1, =0x00010002
        ldr     r2, =0x80ff7f01
        sxtab16 r0, r1, r2
        CHECK   r0, 0x00000003
        uxtab16 r0, r1, r2
        CHECK   r0, 0x01000003
        sxtb16  r0, r2, ror #8
        CHECK   r0, 0xff80007f
        uxtb16  r0, r2
        CHECK   r0, 0x00ff0001
        sxtah   r0, r1, r2
        CHECK   r0, 0x00017f03
        uxtab   r0, r1, r2, ror #24
        CHECK   r0, 0x00010082

        TEST 6
        ldr     r1, =0x11112222
        ldr     r2, =0x33334444
        pkhbt   r0, r1, r2, lsl #16
        CHECK   r0, 0x44442222
        pkhtb   r0, r1, r2, asr #16
        CHECK   r0, 0x11113333
        pkhtb   r0, r1, r2          @ the assembler makes it pkhbt r0, r2, r1
        CHECK   r0, 0x11114444

        TEST 7
        ldr     r1, =0x0003fffe     @ halves 3, -2
        ldr     r2, =0x00050007     @ halves 5, 7
        smulbb  r0, r1, r2          @ -2 * 7
        CHECK   r0, -14
        smultt  r0, r1, r2          @ 3 * 5
        CHECK   r0, 15
        smulbt  r0, r1, r2          @ -2 * 5
        CHECK   r0, -10
        movs    r3, #100
        smlatb  r0, r1, r2, r3      @ 3 * 7 + 100
        CHECK   r0, 121
        smulwb  r0, r1, r2          @ (0x3fffe * 7) >> 16
        CHECK   r0, 0x1b
        smlawt  r0, r2, r1, r3      @ (0x50007 * 3) >> 16 + 100
        CHECK   r0, 115
        smuad   r0, r1, r2          @ -14 + 15
        CHECK   r0, 1
        smuadx  r0, r1, r2          @ -2*5 + 3*7
        CHECK   r0, 11
        smusd   r0, r1, r2          @ -14 - 15
        CHECK   r0, -29
        smlsdx  r0, r1, r2, r3      @ -10 - 21 + 100
        CHECK   r0, 69
        smlad   r0, r1, r2, r3
        CHECK   r0, 101
        TEST 8
        ldr     r1, =0x80008000
        mov     r0, #0
        msr     apsr_nzcvq, r0
        smuad   r0, r1, r1          @ 2^30 + 2^30: Q
        CHECK   r0, 0x80000000
        mrs     r0, apsr
        and     r0, r0, #0x08000000
        CHECK   r0, 0x08000000
        ldr     r1, =0x7fff8000
        mov     r0, #0
        msr     apsr_nzcvq, r0
        smlabb  r0, r1, r1, r1      @ 2^30 + 0x7fff8000: overflow, Q
        CHECK   r0, 0xbfff8000
        mrs     r0, apsr
        and     r0, r0, #0x08000000
        CHECK   r0, 0x08000000

        TEST 9
        ldr     r1, =0x12345678
        ldr     r2, =0x9abcdef0
        smmul   r0, r1, r2
        CHECK   r0, 0xf8cc93d6
        smmulr  r0, r1, r2
        CHECK   r0, 0xf8cc93d6
        movs    r3, #5
        smmla   r0, r1, r2, r3
        CHECK   r0, 0xf8cc93db
        smmls   r0, r1, r2, r3
        CHECK   r0, 0x07336c2e
        smmlsr  r0, r1, r2, r3      @ rounding carries into the top word
        CHECK   r0, 0x07336c2f

        TEST 10
        ldr     r1, =0x01ff1080
        ldr     r2, =0xff010880
        usad8   r0, r1, r2
        CHECK   r0, 0x1fc + 8
        movs    r3, #1
        usada8  r0, r1, r2, r3
        CHECK   r0, 0x1fc + 9

        TEST 11
        ldr     r1, =0x0003fffe
        ldr     r2, =0x00050007
        mvn     r4, #0
        mvn     r5, #0
        smlalbb r4, r5, r1, r2      @ -1 + -14
        CHECK   r4, -15
        CHECK   r5, -1
        movs    r4, #0
        movs    r5, #0
        smlald  r4, r5, r1, r2      @ -14 + 15
        CHECK   r4, 1
        CHECK   r5, 0
        smlsldx r4, r5, r1, r2      @ 1 + (-10 - 21)
        CHECK   r4, -30
        CHECK   r5, -1
        mvn     r4, #0
        mvn     r5, #0
        umaal   r4, r5, r4, r5      @ (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1
        CHECK   r4, 0xffffffff
        CHECK   r5, 0xffffffff

        ldr     r0, =pass_msg
        bl      puts
        movs    r0, #0
        b       exit

        GUEST_ROUTINES

        .section .rodata
pass_msg: .asciz "dsp: all tests passed\n"
