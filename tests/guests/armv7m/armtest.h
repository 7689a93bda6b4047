/*
 * Shared definitions for hemu's bare-metal ARMv7-M guests (assembled with
 * cpp; Thumb-2, `-mcpu=cortex-m3` unless a guest says otherwise), run
 * under `-M mps2-an385` or `-M lm3s6965evb` (code in the first 256 KiB at
 * 0, data in the first 64 KiB at 0x2000_0000: see link.ld) and checked
 * against QEMU 7.2 with `-semihosting`.
 *
 * Console and exit go through semihosting (BKPT 0xAB), which both machines
 * have: SYS_WRITEC/SYS_WRITE0, and SYS_EXIT with ADP_Stopped_ApplicationExit
 * for status 0, SYS_EXIT_EXTENDED for another status. The System Control
 * Space is at 0xE000_E000: SysTick at +0x10, NVIC at +0x100, SCB at +0xD00.
 *
 * Self-test conventions: r11 holds the number of the current test case,
 * r10 is the scratch register of CHECK; a failing check prints
 * "FAIL <n>" and exits with status n.
 */
#ifndef HEMU_ARMTEST_H
#define HEMU_ARMTEST_H

#define SCS          0xe000e000
#define SYST_CSR     0xe000e010
#define SYST_RVR     0xe000e014
#define SYST_CVR     0xe000e018
#define NVIC_ISER    0xe000e100
#define NVIC_ICER    0xe000e180
#define NVIC_ISPR    0xe000e200
#define NVIC_ICPR    0xe000e280
#define NVIC_IABR    0xe000e300
#define NVIC_IPR     0xe000e400
#define SCB_ICSR     0xe000ed04
#define SCB_VTOR     0xe000ed08
#define SCB_AIRCR    0xe000ed0c
#define SCB_CCR      0xe000ed14
#define SCB_SHPR1    0xe000ed18
#define SCB_SHPR2    0xe000ed1c
#define SCB_SHPR3    0xe000ed20
#define SCB_SHCSR    0xe000ed24
#define SCB_CFSR     0xe000ed28
#define SCB_HFSR     0xe000ed2c
#define SCB_MMFAR    0xe000ed34
#define SCB_BFAR     0xe000ed38
#define SCB_CPACR    0xe000ed88
#define NVIC_STIR    0xe000ef00

#define SYS_WRITEC          0x03
#define SYS_WRITE0          0x04
#define SYS_EXIT            0x18
#define SYS_EXIT_EXTENDED   0x20
#define ADP_APPLICATION_EXIT 0x20026

        .syntax unified
        .thumb

/* Start a test case. */
.macro TEST n
        movw    r11, #\n
.endm

/* \reg must equal \val (flags are clobbered). */
.macro CHECK reg, val
        ldr     r10, =\val
        cmp     \reg, r10
        beq     9f
        b       fail
9:
.endm

/* \reg must equal register \reg2 (flags are clobbered). */
.macro CHECK_EQ reg, reg2
        cmp     \reg, \reg2
        beq     9f
        b       fail
9:
.endm

/* APSR.NZCV must equal \nzcv (a 4-bit value); registers are kept. */
.macro CHECK_NZCV nzcv
        mrs     r10, apsr
        lsr.w   r10, r10, #28
        cmp     r10, #\nzcv
        beq     9f
        b       fail
9:
.endm

/* Set APSR.NZCVQ from the 5-bit value \v (bits N Z C V Q). */
.macro SET_FLAGS v
        mov.w   r10, #(\v << 27)
        msr     apsr_nzcvq, r10
.endm

/*
 * Subroutines, instantiated once per program with GUEST_ROUTINES:
 *   putc: r0 = byte.                   Clobbers r1.
 *   puts: r0 = NUL-terminated string.  Clobbers r0, r1.
 *   putdec: r0 = unsigned number.      Clobbers r0-r3, r12.
 *   exit: r0 = status (0 = pass). Never returns.
 *   fail: prints "FAIL <r11>" and exits with status r11.
 */
.macro GUEST_ROUTINES
        .thumb_func
putc:
        push    {r0}
        mov     r1, sp
        movs    r0, #SYS_WRITEC
        bkpt    0xab
        pop     {r0}
        bx      lr

        .thumb_func
puts:
        mov     r1, r0
        movs    r0, #SYS_WRITE0
        bkpt    0xab
        bx      lr

        .thumb_func
putdec:
        push    {r4, lr}
        sub     sp, #16
        mov     r3, sp
        movs    r4, #0
        strb    r4, [r3, #15]
        movs    r4, #15
        mov.w   r12, #10
4:      udiv    r2, r0, r12
        mls     r1, r2, r12, r0
        adds    r1, #'0'
        subs    r4, #1
        strb    r1, [r3, r4]
        movs    r0, r2
        cmp     r0, #0
        bne     4b
        add     r0, r3, r4
        bl      puts
        add     sp, #16
        pop     {r4, pc}

        .thumb_func
exit:
        cbnz    r0, 5f
        movs    r0, #SYS_EXIT
        ldr     r1, =ADP_APPLICATION_EXIT
        bkpt    0xab
        b       .
5:      ldr     r1, =exit_block
        ldr     r2, =ADP_APPLICATION_EXIT
        stmia   r1, {r2}
        str     r0, [r1, #4]
        movs    r0, #SYS_EXIT_EXTENDED
        bkpt    0xab
        b       .

        .thumb_func
fail:
        ldr     r0, =fail_msg
        bl      puts
        mov     r0, r11
        bl      putdec
        movs    r0, #'\n'
        bl      putc
        mov     r0, r11
        b       exit

        .ltorg
        .section .rodata
fail_msg: .asciz "FAIL "
        .bss
        .balign 4
exit_block: .space 8
        .text
.endm

#endif
