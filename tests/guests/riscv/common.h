/*
 * Shared definitions for hemu's bare-metal RISC-V guests (assembled with cpp,
 * RV32I or RV64I only: no CSRs, no M, no compressed instructions).
 *
 * Machine map (QEMU `-M virt`):
 *   0x1000_0000  ns16550a UART: THR at +0, LSR at +5 (bit 5 = THRE)
 *   0x0010_0000  sifive_test finisher: store 0x5555 -> exit 0,
 *                (code << 16) | 0x3333 -> exit code
 */
#ifndef HEMU_GUEST_COMMON_H
#define HEMU_GUEST_COMMON_H

#define UART_BASE     0x10000000
#define UART_THR      0
#define UART_LSR      5
#define UART_LSR_THRE 0x20
#define FINISHER_BASE 0x100000
#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333

/*
 * Subroutines, instantiated once per program with GUEST_ROUTINES.
 *   putc: a0 = byte.               Clobbers t0, t1.
 *   puts: a0 = NUL-terminated str. Clobbers a0, t0-t3.
 *   exit: a0 = exit code (0 = pass). Never returns.
 */
#define GUEST_ROUTINES                                  \
putc:                                                   \
        li      t0, UART_BASE;                          \
1:      lbu     t1, UART_LSR(t0);                       \
        andi    t1, t1, UART_LSR_THRE;                  \
        beqz    t1, 1b;                                 \
        sb      a0, UART_THR(t0);                       \
        ret;                                            \
puts:                                                   \
        mv      t2, a0;                                 \
        mv      t3, ra;                                 \
2:      lbu     a0, 0(t2);                              \
        beqz    a0, 3f;                                 \
        jal     ra, putc;                               \
        addi    t2, t2, 1;                              \
        j       2b;                                     \
3:      mv      ra, t3;                                 \
        ret;                                            \
exit:                                                   \
        li      t0, FINISHER_BASE;                      \
        li      t1, FINISHER_PASS;                      \
        beqz    a0, 4f;                                 \
        slli    t1, a0, 16;                             \
        li      t2, FINISHER_FAIL;                      \
        or      t1, t1, t2;                             \
4:      sw      t1, 0(t0);                              \
5:      j       5b;

#endif
