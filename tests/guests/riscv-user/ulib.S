/* ulib.S - output helpers for the user-mode test guests (see user.h). */
#include "user.h"

        .text

/* a0 = string -> a0 = its length */
        .globl  strlen
strlen:
        mv      t0, a0
1:      lbu     t1, 0(t0)
        beqz    t1, 2f
        addi    t0, t0, 1
        j       1b
2:      sub     a0, t0, a0
        ret

/* Write the string at a0 to stdout. */
        .globl  puts
puts:
        addi    sp, sp, -16
        SREG    ra, 0(sp)
        SREG    a0, REGBYTES(sp)
        call    strlen
        mv      a2, a0
        LREG    a1, REGBYTES(sp)
        li      a0, 1
        SYSCALL SYS_write
        LREG    ra, 0(sp)
        addi    sp, sp, 16
        ret

/* Write the character in a0 to stdout. */
        .globl  putc
putc:
        addi    sp, sp, -16
        sb      a0, 0(sp)
        mv      a1, sp
        li      a0, 1
        li      a2, 1
        SYSCALL SYS_write
        addi    sp, sp, 16
        ret

        .globl  newline
newline:
        li      a0, '\n'
        j       putc

/* Print a0 as an unsigned decimal number (no M extension: subtracts
 * powers of ten). */
        .globl  print_dec
print_dec:
        addi    sp, sp, -32
        mv      t3, sp
        lla     t0, pow10
        li      t4, 0
1:      LREG    t1, 0(t0)
        beqz    t1, 3f
        li      t2, 0
2:      bltu    a0, t1, 4f
        sub     a0, a0, t1
        addi    t2, t2, 1
        j       2b
4:      or      t4, t4, t2
        beqz    t4, 5f
        addi    t2, t2, '0'
        sb      t2, 0(t3)
        addi    t3, t3, 1
5:      addi    t0, t0, REGBYTES
        j       1b
3:      bnez    t4, 6f
        li      t2, '0'
        sb      t2, 0(t3)
        addi    t3, t3, 1
6:      mv      a1, sp
        sub     a2, t3, sp
        li      a0, 1
        SYSCALL SYS_write
        addi    sp, sp, 32
        ret

/* Print the low a1 hex digits of a0. */
        .globl  print_hex
print_hex:
        addi    sp, sp, -32
        mv      t3, sp
1:      beqz    a1, 2f
        addi    a1, a1, -1
        slli    t1, a1, 2
        srl     t2, a0, t1
        andi    t2, t2, 15
        li      t1, 10
        bltu    t2, t1, 3f
        addi    t2, t2, 'a' - 10 - '0'
3:      addi    t2, t2, '0'
        sb      t2, 0(t3)
        addi    t3, t3, 1
        j       1b
2:      mv      a1, sp
        sub     a2, t3, sp
        li      a0, 1
        SYSCALL SYS_write
        addi    sp, sp, 32
        ret

/* Print "FAIL <a0>" and exit with status 1. */
        .globl  fail
fail:
        mv      s11, a0
        SAY     "FAIL "
        mv      a0, s11
        call    print_dec
        call    newline
        li      a0, 1
        SYSCALL SYS_exit_group

        .section .rodata
        .balign REGBYTES
/* Powers of ten that fit a register, largest first, then 0. */
pow10:
#if __riscv_xlen == 64
        .dword  10000000000000000000, 1000000000000000000, 100000000000000000
        .dword  10000000000000000, 1000000000000000, 100000000000000
        .dword  10000000000000, 1000000000000, 100000000000, 10000000000
        .dword  1000000000, 100000000, 10000000, 1000000, 100000, 10000
        .dword  1000, 100, 10, 1, 0
#else
        .word   1000000000, 100000000, 10000000, 1000000, 100000, 10000
        .word   1000, 100, 10, 1, 0
#endif
