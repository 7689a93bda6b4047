/* brk.S - the program break: query, grow (the new memory is usable and
 * zeroed), shrink, refuse to go below the start, grow again. */
#include "user.h"

        .text
        .globl  _start
_start:
        li      a0, 0
        SYSCALL SYS_brk
        mv      s0, a0                  /* initial break */
        li      t1, 0xfff
        and     t0, s0, t1
        EXPECT  t0, 0, 1                /* page-aligned */
        lla     t0, end_of_bss
        bltu    s0, t0, bad2

        li      t0, 0x10123             /* grow by 64 KiB + a bit */
        add     s1, s0, t0
        mv      a0, s1
        SYSCALL SYS_brk
        sub     t0, a0, s1
        EXPECT  t0, 0, 3
        lbu     t0, 0(s0)               /* fresh memory is zero */
        EXPECT  t0, 0, 4
        addi    t1, s1, -1
        lbu     t0, 0(t1)
        EXPECT  t0, 0, 5
        li      t0, 0x5a
        sb      t0, 0(s0)
        sb      t0, 0(t1)
        lbu     t0, 0(t1)
        EXPECT  t0, 0x5a, 6

        addi    s2, s0, 0x100           /* shrink */
        mv      a0, s2
        SYSCALL SYS_brk
        sub     t0, a0, s2
        EXPECT  t0, 0, 7
        li      a0, 0
        SYSCALL SYS_brk
        sub     t0, a0, s2
        EXPECT  t0, 0, 8
        lbu     t0, 0(s0)               /* the first page stays */
        EXPECT  t0, 0x5a, 9

        li      t0, 0x100000            /* below the start: refused */
        sub     a0, s0, t0
        SYSCALL SYS_brk
        sub     t0, a0, s2
        EXPECT  t0, 0, 10

        li      t0, 0x10123             /* grow again: pages are new */
        add     a0, s0, t0
        SYSCALL SYS_brk
        li      t0, 0x10123
        add     t1, s0, t0
        addi    t1, t1, -1
        lbu     t0, 0(t1)
        EXPECT  t0, 0, 11

        SAY     "brk ok\n"
        li      a0, 0
        SYSCALL SYS_exit_group
bad2:   li      a0, 2
        j       fail

        .bss
        .space  100
end_of_bss:
