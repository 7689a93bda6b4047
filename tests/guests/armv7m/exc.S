/*
 * Self-checking test of the ARMv7-M exception model: SVCall (stacked
 * registers, return value through the frame), PendSV, NMI, UsageFault,
 * BusFault and their escalation to HardFault (HFSR.FORCED, CFSR, BFAR),
 * DIV_0_TRP, INVSTATE, UNALIGNED, NVIC interrupts pended by software
 * (ISPR, STIR) with preemption, tail-chaining, priority grouping, PRIMASK
 * and BASEPRI, IABR/ICSR, Thread mode on the process stack and
 * unprivileged, exception return by BX, POP and LDR, and a vector table
 * moved to SRAM (VTOR).
 *
 * Run on `-M mps2-an385`, where an unmapped access is a BusFault (QEMU's
 * lm3s6965evb reads it as zero). Handlers record what they see: `log`
 * gets the exception number at each entry and 0x100 + it at each exit of
 * the IRQ handler, `rec` the EXC_RETURN, the stacked pc, CFSR, HFSR and
 * BFAR; fault handlers return to rec.resume if it is set, else past the
 * faulting instruction.
 *
 * Prints "exc: all tests passed\n" and exits 0, or "FAIL <n>\n" and exits
 * with status n for the first failing test case n.
 */
#include "armtest.h"

/* Offsets in `rec`. */
#define REC_LR      0
#define REC_PC      4
#define REC_CFSR    8
#define REC_HFSR    12
#define REC_BFAR    16
#define REC_RESUME  20
#define REC_SVC     24
#define REC_ICSR    28
#define REC_IABR    32

        .section .vectors, "a"
vectors:
        .word   _stack_top
        .word   reset
        .word   nmi_handler
        .word   fault_handler       @ HardFault
        .word   fault_handler       @ MemManage
        .word   fault_handler       @ BusFault
        .word   fault_handler       @ UsageFault
        .word   0, 0, 0, 0
        .word   svc_handler
        .word   0, 0
        .word   pendsv_handler
        .word   irq_handler         @ SysTick (unused)
        .rept   8
        .word   irq_handler         @ IRQ 0-7
        .endr
vectors_end:

/* Append \reg to the log (clobbers r2, r3). */
.macro LOG reg
        ldr     r2, =log_n
        ldr     r3, [r2]
        add     r3, r3, #1
        str     r3, [r2]
        ldr     r2, =log
        str     \reg, [r2, r3, lsl #2]
.endm

/* The log must hold exactly the given entries; then clear it. */
.macro CHECK_LOG a, b=-1, c=-1, d=-1, e=-1, f=-1
        ldr     r4, =log_n
        ldr     r5, [r4]
        ldr     r6, =log + 4
        movs    r7, #0
        .irp    v, \a, \b, \c, \d, \e, \f
        .if     \v >= 0
        ldr     r8, [r6], #4
        CHECK   r8, \v
        adds    r7, #1
        .endif
        .endr
        CHECK_EQ r5, r7
        movs    r5, #0
        str     r5, [r4]
.endm

/* Check rec field \off. */
.macro CHECK_REC off, val
        ldr     r4, =rec
        ldr     r5, [r4, #\off]
        CHECK   r5, \val
.endm

/* Check rec field \off against register \reg. */
.macro CHECK_RECR off, reg
        ldr     r4, =rec
        ldr     r5, [r4, #\off]
        CHECK_EQ r5, \reg
.endm

/* Set rec.resume to label \l. */
.macro RESUME l
        ldr     r4, =rec
        adr     r5, \l
        add     r5, r5, #1
        str     r5, [r4, #REC_RESUME]
.endm

/* Write \val to the word at \addr (clobbers r4, r5). */
.macro POKE addr, val
        ldr     r4, =\addr
        ldr     r5, =\val
        str     r5, [r4]
.endm

        .text
        .thumb_func
        .global reset
reset:
        /* ---- SVCall: stacked r0 comes back incremented */
        TEST 1
        movs    r0, #41
        svc     #42
        CHECK   r0, 42
        CHECK_LOG 11
        CHECK_REC REC_SVC, 42
        CHECK_REC REC_LR, 0xfffffff9
        TEST 2
        mrs     r0, ipsr
        CHECK   r0, 0               @ back in Thread mode
        /* ---- PendSV, NMI */
        TEST 3
        POKE    SCB_ICSR, 0x10000000
        dsb
        isb
        CHECK_LOG 14
        TEST 4
        POKE    SCB_ICSR, 0x80000000
        isb
        CHECK_LOG 2

        /* ---- UsageFault disabled: escalates to HardFault */
        TEST 10
        udf     #0
        CHECK_LOG 3
        CHECK_REC REC_HFSR, 0x40000000
        CHECK_REC REC_CFSR, 0x00010000
        /* ---- UsageFault enabled */
        TEST 11
        POKE    SCB_SHCSR, 0x00070000
        udf.w   #1
        CHECK_LOG 6
        CHECK_REC REC_CFSR, 0x00010000
        CHECK_REC REC_HFSR, 0
        TEST 12
        POKE    SCB_CCR, 0x210      @ DIV_0_TRP
        movs    r1, #5
        movs    r2, #0
        udiv    r0, r1, r2
        CHECK_LOG 6
        CHECK_REC REC_CFSR, 0x02000000
        POKE    SCB_CCR, 0x200
        TEST 13
        RESUME  1f
        adr     r0, 1f              @ bit 0 clear: INVSTATE at the target
        bx      r0
        b       fail
1:      CHECK_LOG 6
        CHECK_REC REC_CFSR, 0x00020000
        adr     r0, 1b
        CHECK_RECR REC_PC, r0
        TEST 14
        ldr     r1, =buf + 2
        ldrd    r2, r3, [r1]
        CHECK_LOG 6
        CHECK_REC REC_CFSR, 0x01000000
        TEST 15
        ldr     r1, =buf + 1
        ldm     r1!, {r2}
        CHECK_LOG 6
        CHECK_REC REC_CFSR, 0x01000000

        /* ---- BusFault: precise, with BFAR */
        TEST 20
        POKE    SCB_SHCSR, 0x00040000  @ only UsageFault enabled
        ldr     r1, =0x60000000
        ldr     r0, [r1]
        CHECK_LOG 3
        CHECK_REC REC_HFSR, 0x40000000
        CHECK_REC REC_CFSR, 0x00008200
        CHECK_REC REC_BFAR, 0x60000000
        TEST 21
        POKE    SCB_SHCSR, 0x00060000
        ldr     r1, =0x60000010
        str     r0, [r1]
        CHECK_LOG 5
        CHECK_REC REC_CFSR, 0x00008200
        CHECK_REC REC_BFAR, 0x60000010
        TEST 22
        RESUME  2f
        ldr     r0, =0x60000001     @ fetch from nowhere: IBUSERR
        bx      r0
        b       fail
2:      CHECK_LOG 5
        CHECK_REC REC_CFSR, 0x00000100

        /* ---- a fault in a handler of the same priority escalates */
        TEST 30
        svc     #3                  @ the SVC handler executes UDF
        CHECK_LOG 11, 3
        CHECK_REC REC_HFSR, 0x40000000
        TEST 31
        ldr     r4, =SCB_SHPR1
        mov     r5, #0x20           @ UsageFault priority 0x20 ...
        strb    r5, [r4, #2]
        ldr     r4, =SCB_SHPR2
        mov     r5, #0x40           @ ... SVCall 0x40: UsageFault preempts
        strb    r5, [r4, #3]
        svc     #3
        CHECK_LOG 11, 6
        /* ---- PendSV pended in SVCall (lower priority): tail-chained */
        TEST 32
        ldr     r4, =SCB_SHPR3
        mov     r5, #0xff
        strb    r5, [r4, #2]        @ PendSV priority 0xff
        svc     #4
        CHECK_LOG 11, 14

        /* ---- NVIC: preemption and tail-chaining */
        TEST 40
        POKE    NVIC_IPR, 0x00c04080   @ IRQ0 0x80, IRQ1 0x40, IRQ2 0xc0
        POKE    NVIC_ISER, 0x0f
        POKE    actions, 0x6        @ IRQ0's handler pends IRQ1 and IRQ2
        POKE    NVIC_ISPR, 0x1
        isb
        CHECK_LOG 16, 17, 0x111, 0x110, 18, 0x112
        CHECK_REC REC_IABR, 0x4      @ only IRQ2 active in its (tail-chained) handler
        TEST 41
        POKE    actions, 0
        POKE    NVIC_STIR, 3
        isb
        CHECK_LOG 19, 0x113
        CHECK_REC REC_ICSR, 0x00000813 @ VECTACTIVE 19, RETTOBASE
        /* ---- PRIMASK */
        TEST 42
        cpsid   i
        POKE    NVIC_ISPR, 0x1
        isb
        CHECK_LOG -1                 @ nothing taken
        ldr     r4, =NVIC_ISPR
        ldr     r5, [r4]
        CHECK   r5, 1
        cpsie   i
        CHECK_LOG 16, 0x110
        /* ---- BASEPRI masks priorities >= its value */
        TEST 43
        mov     r0, #0x80
        msr     basepri, r0
        POKE    NVIC_ISPR, 0x3      @ IRQ0 (0x80) masked, IRQ1 (0x40) taken
        isb
        CHECK_LOG 17, 0x111
        mov     r0, #0
        msr     basepri, r0
        CHECK_LOG 16, 0x110
        TEST 44
        mov     r0, #0x40
        msr     basepri_max, r0
        mov     r0, #0x80           @ basepri_max only raises the priority
        msr     basepri_max, r0
        mrs     r1, basepri
        CHECK   r1, 0x40
        mov     r0, #0
        msr     basepri, r0
        /* ---- priority grouping: same group, no preemption */
        TEST 45
        POKE    SCB_AIRCR, 0x05fa0500  @ PRIGROUP 5: group = bits 7:6
        POKE    NVIC_IPR, 0x00c0a080   @ IRQ1 0xa0: group of IRQ0 (0x80)
        POKE    actions, 0x2
        POKE    NVIC_ISPR, 0x1
        isb
        CHECK_LOG 16, 0x110, 17, 0x111
        POKE    SCB_AIRCR, 0x05fa0000
        POKE    actions, 0

        /* ---- Thread mode on PSP, unprivileged */
        TEST 50
        ldr     r0, =psp_stack_top
        msr     psp, r0
        mov     r0, #2              @ SPSEL
        msr     control, r0
        isb
        mov     r1, sp
        ldr     r2, =psp_stack_top
        CHECK_EQ r1, r2
        movs    r0, #7
        svc     #1
        CHECK   r0, 8
        CHECK_LOG 11
        CHECK_REC REC_LR, 0xfffffffd
        TEST 51
        mov     r0, #3              @ unprivileged
        msr     control, r0
        isb
        mov     r0, #1
        msr     primask, r0         @ ignored: unprivileged
        mrs     r1, primask
        CHECK   r1, 0
        mrs     r1, control
        CHECK   r1, 3
        svc     #2                  @ the handler makes Thread privileged
        CHECK_LOG 11
        mrs     r1, control
        CHECK   r1, 2
        TEST 52
        mov     r0, #0
        msr     control, r0
        isb
        mrs     r1, psp
        ldr     r2, =psp_stack_top
        CHECK_EQ r1, r2             @ the frames came and went
        mov     r1, sp
        CHECK   r1, _stack_top

        /* ---- a vector table in SRAM */
        TEST 60
        ldr     r0, =vectors
        ldr     r1, =ram_vectors
        ldr     r2, =vectors_end
1:      ldr     r3, [r0], #4
        str     r3, [r1], #4
        cmp     r0, r2
        bne     1b
        ldr     r1, =ram_vectors
        ldr     r0, =pendsv2_handler
        str     r0, [r1, #14 * 4]
        POKE    SCB_VTOR, ram_vectors
        POKE    SCB_ICSR, 0x10000000
        isb
        CHECK_LOG 0x20e
        POKE    SCB_VTOR, 0

        ldr     r0, =pass_msg
        bl      puts
        movs    r0, #0
        b       exit

/* ---- handlers */

/* MemManage, BusFault, UsageFault and HardFault. */
        .thumb_func
fault_handler:
        tst     lr, #4
        ite     eq
        mrseq   r0, msp
        mrsne   r0, psp
        mrs     r1, ipsr
        LOG     r1
        ldr     r2, =rec
        str     lr, [r2, #REC_LR]
        ldr     r1, [r0, #24]
        str     r1, [r2, #REC_PC]
        ldr     r3, =SCB_CFSR
        ldr     r1, [r3]
        str     r1, [r2, #REC_CFSR]
        str     r1, [r3]            @ write 1 to clear
        ldr     r1, [r3, #4]
        str     r1, [r2, #REC_HFSR]
        str     r1, [r3, #4]
        ldr     r1, [r3, #16]
        str     r1, [r2, #REC_BFAR]
        ldr     r1, [r2, #REC_RESUME]
        cbz     r1, 1f
        movs    r3, #0
        str     r3, [r2, #REC_RESUME]
        bic     r1, r1, #1
        b       2f
1:      ldr     r1, [r0, #24]       @ skip the faulting instruction
        ldrh    r3, [r1]
        lsrs    r3, r3, #11
        cmp     r3, #0x1d
        ite     hs
        addhs   r1, #4
        addlo   r1, #2
2:      str     r1, [r0, #24]
        ldr     r3, [r0, #28]       @ and return in Thumb state
        orr     r3, r3, #0x01000000
        str     r3, [r0, #28]
        bx      lr

/* SVCall: r0 + 1 back through the frame; svc #2 makes Thread privileged,
   svc #3 faults, svc #4 pends PendSV. Returns with POP {pc}. */
        .thumb_func
svc_handler:
        tst     lr, #4
        ite     eq
        mrseq   r0, msp
        mrsne   r0, psp
        push    {r4, lr}
        mrs     r1, ipsr
        LOG     r1
        ldr     r2, =rec
        str     lr, [r2, #REC_LR]
        ldr     r1, [r0, #24]
        ldrb    r1, [r1, #-2]
        str     r1, [r2, #REC_SVC]
        ldr     r3, [r0]
        add     r3, r3, #1
        str     r3, [r0]
        cmp     r1, #2
        bne     1f
        mrs     r3, control
        bic     r3, r3, #1
        msr     control, r3
1:      cmp     r1, #3
        bne     2f
        udf     #3
2:      cmp     r1, #4
        bne     3f
        POKE    SCB_ICSR, 0x10000000
3:      pop     {r4, pc}

/* PendSV: returns with LDR pc. */
        .thumb_func
pendsv_handler:
        str     lr, [sp, #-8]!
        mrs     r1, ipsr
        LOG     r1
        ldr     pc, [sp], #8

        .thumb_func
pendsv2_handler:
        mrs     r1, ipsr
        add     r1, r1, #0x200
        LOG     r1
        bx      lr

        .thumb_func
nmi_handler:
        mrs     r1, ipsr
        LOG     r1
        bx      lr

/* IRQ n: log 16 + n, pend the IRQs in `actions` (IRQ0 only), log the
   exit as 0x100 + 16 + n. */
        .thumb_func
irq_handler:
        mrs     r1, ipsr
        LOG     r1
        ldr     r2, =rec
        ldr     r3, =SCB_ICSR
        ldr     r3, [r3]
        str     r3, [r2, #REC_ICSR]
        ldr     r3, =NVIC_IABR
        ldr     r3, [r3]
        str     r3, [r2, #REC_IABR]
        cmp     r1, #16
        bne     1f
        ldr     r2, =actions
        ldr     r3, [r2]
        cbz     r3, 1f
        ldr     r2, =NVIC_ISPR
        str     r3, [r2]
        isb
1:      mrs     r1, ipsr
        add     r1, r1, #0x100
        LOG     r1
        bx      lr

        GUEST_ROUTINES

        .section .rodata
pass_msg: .asciz "exc: all tests passed\n"

        .bss
        .balign 128
ram_vectors: .space 128
        .balign 8
rec:    .space  64
log_n:  .space  4
log:    .space  4 * 33
actions: .space 4
buf:    .space  16
        .balign 8
        .space  512
psp_stack_top:
