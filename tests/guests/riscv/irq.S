/*
 * Self-checking test of interrupts on the virt board: the CLINT machine timer
 * (mtimecmp = mtime + N, MTIE + MIE, wfi; mcause = interrupt | 7), the
 * software interrupt through msip (interrupt | 3) with mtvec vectored,
 * priority of MSI over MTI, M interrupts taken in U although MIE = 0, the S
 * timer interrupt delivered to S through mideleg with STIP written by M
 * (directly, and OpenSBI style from the M timer handler), WFI with
 * interrupts globally disabled (wakes up, no trap), mip.MTIP/MSIP read-only,
 * and a PLIC external interrupt from the UART (THR empty, source 10).
 * Timing-dependent (mtime is real time under QEMU), so not used for the
 * instruction traces. The M and S handlers are in rvtest.h.
 * Built for RV64 and RV32 (irq64.elf, irq32.elf).
 *
 * Prints "irq64: all tests passed\n" (or irq32) and exits 0, or
 * "FAIL <n>\n" and exits with code n for the first failing test case n.
 */
#include "rvtest.h"

#define MIP_MSIP 0x8
#define MIP_MTIP 0x80
#define MIP_STIP 0x20
#define MIP_MEIP 0x800

#define PLIC_BASE      0xc000000
#define PLIC_ENABLE0   0xc002000   /* context 0: hart 0, M mode */
#define PLIC_CLAIM0    0xc200004
#define PLIC_THRESH0   0xc200000
#define UART_IRQ       10
#define UART_IER       1
#define UART_IIR       2

/* mtimecmp = mtime + \delta. Clobbers x1, x2, x13, x14, t0. */
.macro SET_TIMER delta
#if __riscv_xlen == 64
        li      t0, CLINT_MTIME
        ld      x1, 0(t0)
        li      x2, \delta
        add     x1, x1, x2
        li      t0, CLINT_MTIMECMP
        sd      x1, 0(t0)
#else
        li      t0, CLINT_MTIME
1:      lw      x2, 4(t0)
        lw      x1, 0(t0)
        lw      x13, 4(t0)
        bne     x2, x13, 1b
        li      x13, \delta
        add     x13, x1, x13
        sltu    x14, x13, x1
        add     x2, x2, x14
        li      t0, CLINT_MTIMECMP
        li      x14, -1
        sw      x14, 0(t0)
        sw      x2, 4(t0)
        sw      x13, 0(t0)
#endif
.endm

/* mtimecmp = all ones (no timer interrupt). Clobbers x14, t0. */
.macro TIMER_OFF
        li      t0, CLINT_MTIMECMP
        li      x14, -1
        sw      x14, 0(t0)
        sw      x14, 4(t0)
.endm

/* mtimecmp = 0 (timer interrupt pending at once). Clobbers t0. */
.macro TIMER_NOW
        li      t0, CLINT_MTIMECMP
        sw      x0, 0(t0)
        sw      x0, 4(t0)
.endm

/* msip = \v. Clobbers x14, t0. */
.macro SET_MSIP v
        li      t0, CLINT_MSIP
        li      x14, \v
        sw      x14, 0(t0)
.endm

/* Spin (bounded) until mip & \mask == \value, else fail. The spec only
 * promises that CLINT and PLIC writes reach mip "eventually"; QEMU 7.2 is
 * immediate. Clobbers x2, x14, x7. */
.macro WAIT_MIP mask, value
        li      x2, 100000
1:      csrr    x14, mip
        li      x7, \mask
        and     x14, x14, x7
        li      x7, \value
        beq     x14, x7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:
.endm

/* Spin (bounded) until s7 >= \n traps were taken. Clobbers x2. */
.macro WAIT_TRAPS n
        li      x2, 10000000
1:      li      x7, \n
        bge     s7, x7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:
.endm

        RVTEST_START
        PMP_ALLOW_ALL
        lla     t0, strap
        csrw    stvec, t0
        csrw    mie, x0
        SET_MSIP 0

        /* ==== machine timer ==== */
        /* mtimecmp = -1: MTIP clear; MTIP and MSIP cannot be set via mip */
        TEST_BEGIN
        TIMER_OFF
        WAIT_MIP MIP_MTIP | MIP_MSIP, 0
        li      x1, MIP_MTIP | MIP_MSIP
        csrs    mip, x1
        csrr    x14, mip
        andi    x14, x14, MIP_MTIP | MIP_MSIP
        CHECK   x14, 0
        /* mtimecmp reads back */
        TEST_BEGIN
        li      t0, CLINT_MTIMECMP
        lw      x14, 0(t0)
        CHECK   x14, -1
        lw      x14, 4(t0)
        CHECK   x14, -1

        /* mtime advances */
        TEST_BEGIN
        li      t0, CLINT_MTIME
        lw      x1, 0(t0)
        li      x2, 1000000
1:      lw      x14, 0(t0)
        bne     x14, x1, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:
        /* mtimecmp = mtime + 1 ms, MTIE + MIE, wfi: cause interrupt | 7,
         * mepc = the instruction after the wfi (the spec: "the interrupt
         * trap will be taken on the following instruction"), or the wfi if
         * the interrupt came before it. Any other resume point falls
         * through to the check instead of waiting again. */
        TRAP_BEGIN
        SET_TIMER 10000
        li      x1, MIP_MTIP
        csrw    mie, x1
        csrsi   mstatus, MSTATUS_MIE
        li      x2, 1000000
1:
3:      wfi
4:      jal     x0, 6f
6:      bnez    s7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      csrci   mstatus, MSTATUS_MIE
        CHECK   s7, 1
        CHECK_IRQ s4, IRQ_M_TIMER
        CHECK   s6, 0
        lla     x7, 3b
        beq     s5, x7, 5f
        lla     x7, 4b
        CHECK_REG s5, x7
5:      /* the handler cleared MTIE; MTIP is still pending */
        csrr    x14, mie
        CHECK   x14, 0
        csrr    x14, mip
        andi    x14, x14, MIP_MTIP
        CHECK   x14, MIP_MTIP
        /* MPP = M, MPIE = 1 at the trap */
        li      x7, MSTATUS_MPP | MSTATUS_MPIE
        and     x14, t6, x7
        CHECK_REG x14, x7
        /* re-arming mtimecmp clears MTIP */
        TEST_BEGIN
        TIMER_OFF
        WAIT_MIP MIP_MTIP, 0

        /* ==== WFI with interrupts globally disabled: wakes up when MTIP
         * becomes pending, no trap ==== */
        TRAP_BEGIN
        SET_TIMER 10000
        li      x1, MIP_MTIP
        csrw    mie, x1
        li      x2, 1000000
1:      wfi
        csrr    x14, mip
        andi    x14, x14, MIP_MTIP
        bnez    x14, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      CHECK   s7, 0
        csrw    mie, x0
        TIMER_OFF

        /* ==== software interrupt (msip), mtvec vectored ==== */
        TRAP_BEGIN
        lla     x1, vtable
        ori     x1, x1, 1
        csrw    mtvec, x1
        li      t4, 0
        li      x1, MIP_MSIP
        csrw    mie, x1
        csrsi   mstatus, MSTATUS_MIE
        SET_MSIP 1
        WAIT_TRAPS 1
        csrci   mstatus, MSTATUS_MIE
        CHECK   s7, 1
        CHECK_IRQ s4, IRQ_M_SOFT
        CHECK   t4, 3
        /* msip reads back 1 and keeps MSIP pending until cleared */
        TEST_BEGIN
        li      t0, CLINT_MSIP
        lw      x14, 0(t0)
        CHECK   x14, 1
        csrr    x14, mip
        andi    x14, x14, MIP_MSIP
        CHECK   x14, MIP_MSIP
        SET_MSIP 0
        WAIT_MIP MIP_MSIP, 0

        /* priority: MSI and MTI pending together, MSI is taken first
         * (the vector entries append their cause to t4) */
        TRAP_BEGIN
        li      t4, 0
        SET_MSIP 1
        TIMER_NOW
        WAIT_MIP MIP_MSIP | MIP_MTIP, MIP_MSIP | MIP_MTIP
        li      x1, MIP_MSIP | MIP_MTIP
        csrw    mie, x1
        csrsi   mstatus, MSTATUS_MIE
        WAIT_TRAPS 2
        csrci   mstatus, MSTATUS_MIE
        CHECK   s7, 2
        CHECK   t4, 0x307
        SET_MSIP 0
        TIMER_OFF
        lla     x1, mtrap
        csrw    mtvec, x1

        /* ==== M interrupts are taken in U even with MIE = 0 ==== */
        TRAP_BEGIN
        li      x1, MIP_MSIP
        csrw    mie, x1
        SET_MSIP 1
        WAIT_MIP MIP_MSIP, MIP_MSIP
        CHECK   s7, 0
        ENTER_MODE 0
        li      x2, 1000
1:      bnez    s7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      CHECK_IRQ s4, IRQ_M_SOFT
        li      x7, MSTATUS_MPP
        and     x14, t6, x7
        CHECK   x14, 0
        BACK_TO_M
        SET_MSIP 0

        /* ==== S timer interrupt, delegated, STIP written by M ==== */
        /* pending but SIE = 0 in S: nothing; setting SIE: trap to S */
        TRAP_BEGIN
        li      x1, MIP_STIP
        csrw    mideleg, x1
        csrw    mie, x1
        csrs    mip, x1
        csrr    x14, sip
        andi    x14, x14, MIP_STIP
        CHECK   x14, MIP_STIP
        csrci   mstatus, MSTATUS_SIE
        ENTER_MODE 1
        nop
        nop
        CHECK   s7, 0
        csrsi   sstatus, MSTATUS_SIE
        li      x2, 1000
1:      bnez    s7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      csrci   sstatus, MSTATUS_SIE
        CHECK   s7, 1
        CHECK_IRQ a5, IRQ_S_TIMER
        CHECK   a7, 0
        CHECK   s4, -1
        /* the S handler cleared sie.STIE */
        csrr    x14, sie
        CHECK   x14, 0
        /* SPP = S, SPIE = 1 at the trap */
        li      x7, MSTATUS_SPP | MSTATUS_SPIE
        and     x14, t5, x7
        CHECK_REG x14, x7
        BACK_TO_M
        /* in U the delegated interrupt is taken whatever SIE */
        TRAP_BEGIN
        li      x1, MIP_STIP
        csrw    mie, x1
        csrci   mstatus, MSTATUS_SIE
        ENTER_MODE 0
        li      x2, 1000
1:      bnez    s7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      CHECK_IRQ a5, IRQ_S_TIMER
        li      x7, MSTATUS_SPP
        and     x14, t5, x7
        CHECK   x14, 0
        BACK_TO_M
        li      x1, MIP_STIP
        csrc    mip, x1
        /* not delegated: STIP goes to M (interrupt | 5) */
        TRAP_BEGIN
        csrw    mideleg, x0
        li      x1, MIP_STIP
        csrw    mie, x1
        csrs    mip, x1
        ENTER_MODE 1
        li      x2, 1000
1:      bnez    s7, 2f
        addi    x2, x2, -1
        bnez    x2, 1b
        jal     x0, fail
2:      CHECK_IRQ s4, IRQ_S_TIMER
        CHECK   a5, -1
        BACK_TO_M
        li      x1, MIP_STIP
        csrc    mip, x1

        /* OpenSBI style: the M timer interrupt, taken while in S, is
         * forwarded by M as STIP; S takes it through mideleg */
        TRAP_BEGIN
        li      t4, 0
        lla     x1, mtrap_fwd
        csrw    mtvec, x1
        li      x1, MIP_STIP
        csrw    mideleg, x1
        li      x1, MIP_STIP | MIP_MTIP
        csrw    mie, x1
        SET_TIMER 10000
        ENTER_MODE 1
        csrsi   sstatus, MSTATUS_SIE
        WAIT_TRAPS 2
        csrci   sstatus, MSTATUS_SIE
        CHECK   t4, 7
        CHECK_IRQ a5, IRQ_S_TIMER
        BACK_TO_M
        lla     x1, mtrap
        csrw    mtvec, x1
        TIMER_OFF
        li      x1, MIP_STIP
        csrc    mip, x1
        csrw    mideleg, x0
        csrw    mie, x0

        /* ==== PLIC: UART THR-empty interrupt, source 10, hart 0 M ==== */
        TRAP_BEGIN
        li      t0, PLIC_BASE + 4 * UART_IRQ
        li      x1, 1
        sw      x1, 0(t0)
        li      t0, PLIC_ENABLE0
        li      x1, 1 << UART_IRQ
        sw      x1, 0(t0)
        li      t0, PLIC_THRESH0
        sw      x0, 0(t0)
        li      x1, MIP_MEIP
        csrw    mie, x1
        csrsi   mstatus, MSTATUS_MIE
        li      t0, UART_BASE
        li      x1, 2
        sb      x1, UART_IER(t0)
        WAIT_TRAPS 1
        csrci   mstatus, MSTATUS_MIE
        CHECK   s7, 1
        CHECK_IRQ s4, IRQ_M_EXT
        /* claim: source 10 */
        TEST_BEGIN
        li      t0, PLIC_CLAIM0
        lw      x14, 0(t0)
        CHECK   x14, UART_IRQ
        /* turn the UART interrupt off, complete: MEIP clears */
        li      t0, UART_BASE
        sb      x0, UART_IER(t0)
        li      t0, PLIC_CLAIM0
        li      x1, UART_IRQ
        sw      x1, 0(t0)
        WAIT_MIP MIP_MEIP, 0
        li      t0, PLIC_ENABLE0
        sw      x0, 0(t0)
        csrw    mie, x0

        RVTEST_END irq

/* M handler for the OpenSBI-style test: the M timer interrupt becomes STIP
 * (t4 = 7, MTIE cleared); everything else goes to mtrap. */
        .balign 4
mtrap_fwd:
        csrr    s9, mcause
        li      s10, 1
        slli    s10, s10, XLEN_MSB
        addi    s10, s10, IRQ_M_TIMER
        bne     s9, s10, mtrap
        addi    s7, s7, 1
        li      t4, 7
        li      s9, MIP_MTIP
        csrc    mie, s9
        li      s9, MIP_STIP
        csrs    mip, s9
        mret

/* The vector table: entry 0 (exceptions) goes to mtrap; entry n appends n to
 * t4 (t4 = t4 << 8 | n), then goes to mtrap. */
        .balign 64
        .option push
        .option norvc
vtable:
        jal     x0, mtrap
        .irp    n, 1,2,3,4,5,6,7,8,9,10,11
        jal     x0, virq\n
        .endr
        .irp    n, 1,2,3,4,5,6,7,8,9,10,11
virq\n: slli    t4, t4, 8
        addi    t4, t4, \n
        jal     x0, mtrap
        .endr
        .option pop

        STRAP_HANDLER
