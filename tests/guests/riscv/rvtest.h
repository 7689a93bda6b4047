/*
 * Shared definitions for the extension and privileged-architecture guests
 * (m.S, a.S, c.S, zb.S, priv.S, irq.S, vm.S). Each is built twice, for RV64
 * (`-march=rv64imac_zicsr_zifencei_zba_zbb_zbs -mabi=lp64`) and RV32
 * (`rv32imac_... -mabi=ilp32`), and checked under QEMU `-M virt -bios none`.
 * Builds on test_macros.h (gp = test number, x7 = expected value, `fail`
 * prints "FAIL <n>" and exits n).
 *
 * Trap-handler conventions (MTRAP_HANDLER / STRAP_HANDLER):
 *   s4, s5, s6  mcause, mepc, mtval of the last trap taken into M
 *   t6          mstatus on entry to the M handler (after the trap)
 *   a5, a6, a7  scause, sepc, stval of the last trap taken into S
 *   t5          sstatus on entry to the S handler (after the trap)
 *   s7          number of traps taken (both handlers count)
 *   s8          resume address: when nonzero, the handler returns there
 *               (clearing s8) in the handler's own mode (M: MPP = M;
 *               S: SPP = S); when zero, it skips the trapping instruction
 *               (2 or 4 bytes, read at the trap pc) in the trapped mode
 *   s9-s11      handler scratch
 * An interrupt clears its enable bit (mie / sie) and returns to the
 * interrupted instruction (M: to the one after it if that is a wfi, which
 * nothing would wake up any more).
 */
#ifndef HEMU_RVTEST_H
#define HEMU_RVTEST_H

#include "test_macros.h"

#if __riscv_xlen == 64
#define XLEN_STR "64"
#define LWU lwu
#define XLEN_MSB 63
#else
#define XLEN_STR "32"
#define LWU lw
#define XLEN_MSB 31
#endif

#define MSTATUS_SIE   0x2
#define MSTATUS_MIE   0x8
#define MSTATUS_SPIE  0x20
#define MSTATUS_MPIE  0x80
#define MSTATUS_SPP   0x100
#define MSTATUS_MPP   0x1800
#define MSTATUS_MPP_S 0x0800
#define MSTATUS_MPRV  0x20000
#define MSTATUS_SUM   0x40000
#define MSTATUS_MXR   0x80000

#define IRQ_S_SOFT    1
#define IRQ_M_SOFT    3
#define IRQ_S_TIMER   5
#define IRQ_M_TIMER   7
#define IRQ_S_EXT     9
#define IRQ_M_EXT     11

#define CLINT_MSIP     0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME    0x200bff8

/* Select the expected value by XLEN. */
.macro CHECKX reg, e64, e32
#if __riscv_xlen == 64
        CHECK   \reg, \e64
#else
        CHECK   \reg, \e32
#endif
.endm

/* An interrupt cause: the MSB set plus \n. */
.macro CHECK_IRQ reg, n
        li      x7, 1
        slli    x7, x7, XLEN_MSB
        addi    x7, x7, \n
        beq     \reg, x7, 9f
        jal     x0, fail
9:
.endm

/* Start a test case that expects traps: clear the trap record. */
.macro TRAP_BEGIN
        TEST_BEGIN
        li      s4, -1
        li      s5, 0
        li      s6, 0
        li      s7, 0
        li      s8, 0
        li      a5, -1
        li      a6, 0
        li      a7, 0
.endm

/* Check the last M-mode trap: cause, epc = label, tval. */
.macro CHECK_MTRAP cause, epc, tval
        CHECK   s4, \cause
        lla     x7, \epc
        CHECK_REG s5, x7
        CHECK   s6, \tval
.endm

/* Check the last S-mode trap: cause, epc = label, tval. */
.macro CHECK_STRAP cause, epc, tval
        CHECK   a5, \cause
        lla     x7, \epc
        CHECK_REG a6, x7
        CHECK   a7, \tval
.endm

/* \reg = the 32-bit word at \label (zero-extended), e.g. an instruction
 * encoding, read as two halfwords (instructions are only 2-byte aligned).
 * Clobbers t3. */
.macro LOAD_INSN reg, label
        lla     t3, \label
        lhu     \reg, 2(t3)
        slli    \reg, \reg, 16
        lhu     t3, 0(t3)
        or      \reg, \reg, t3
.endm

/* From M: continue at the next instruction in mode \mpp (0 = U, 1 = S). Clobbers t0. */
.macro ENTER_MODE mpp
        li      t0, MSTATUS_MPP
        csrc    mstatus, t0
        li      t0, (\mpp) << 11
        csrs    mstatus, t0
        lla     t0, 1f
        csrw    mepc, t0
        mret
1:
.endm

/* From S or U: continue at the next instruction in M (an ecall that the M
 * handler turns into a jump). Records cause 8/9 in s4 and counts in s7. */
.macro BACK_TO_M
        lla     s8, 1f
        ecall
1:
.endm

/* Give S and U access to all memory (QEMU denies them everything while no PMP
 * entry is set): entry 0 = NAPOT over the whole address space, RWX. */
.macro PMP_ALLOW_ALL
        li      t0, -1
        csrw    pmpaddr0, t0
        li      t0, 0x1f
        csrw    pmpcfg0, t0
.endm

/* The M-mode trap handler (see the conventions above). */
.macro MTRAP_HANDLER
        .balign 4
mtrap:
        csrr    s4, mcause
        csrr    s5, mepc
        csrr    s6, mtval
        csrr    t6, mstatus
        addi    s7, s7, 1
        bgez    s4, 1f
        li      s9, 1
        sll     s9, s9, s4
        csrc    mie, s9
        /* interrupted just before a wfi: skip it (nothing would wake it) */
        lhu     s9, 0(s5)
        li      s10, 0x0073
        bne     s9, s10, 4f
        lhu     s9, 2(s5)
        li      s10, 0x1050
        bne     s9, s10, 4f
        addi    s10, s5, 4
        csrw    mepc, s10
4:      mret
1:      beqz    s8, 2f
        csrw    mepc, s8
        li      s8, 0
        li      s9, MSTATUS_MPP
        csrs    mstatus, s9
        mret
2:      lhu     s9, 0(s5)
        andi    s9, s9, 3
        addi    s10, s5, 2
        li      s11, 3
        bne     s9, s11, 3f
        addi    s10, s10, 2
3:      csrw    mepc, s10
        mret
.endm

/* The S-mode trap handler (see the conventions above). */
.macro STRAP_HANDLER
        .balign 4
strap:
        csrr    a5, scause
        csrr    a6, sepc
        csrr    a7, stval
        csrr    t5, sstatus
        addi    s7, s7, 1
        bgez    a5, 1f
        li      s9, 1
        sll     s9, s9, a5
        csrc    sie, s9
        sret
1:      beqz    s8, 2f
        csrw    sepc, s8
        li      s8, 0
        li      s9, MSTATUS_SPP
        csrs    sstatus, s9
        sret
2:      lhu     s9, 0(a6)
        andi    s9, s9, 3
        addi    s10, a6, 2
        li      s11, 3
        bne     s9, s11, 3f
        addi    s10, s10, 2
3:      csrw    sepc, s10
        sret
.endm

/* Guest start: clear the registers, set the stack and mtvec = mtrap. */
.macro RVTEST_START
        .section .text.init
        .globl  _start
_start:
        CLEAR_XREGS
        lla     sp, _stack_top
        lla     t0, mtrap
        csrw    mtvec, t0
.endm

/* The verdict strings: "<name><xlen>: all tests passed\n". */
.macro RVTEST_END name
        jal     x0, pass
        MTRAP_HANDLER
        TEST_PASSFAIL pass_msg
        .section .rodata
pass_msg:
        .ascii  "\name"
        .ascii  XLEN_STR
        .asciz  ": all tests passed\n"
        .text
.endm

#endif
