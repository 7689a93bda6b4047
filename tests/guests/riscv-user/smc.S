/* smc.S - self-modifying code in user mode. A page holding translated
 * code is written by a plain store, by the very block that runs (into its
 * own next instruction) and by the kernel (a system call's result placed
 * next to the code); each time the next execution sees the new bytes
 * (after fence.i, as the ISA asks). hemu's generated code stores straight
 * into the process's address window, where such pages are read-only, so
 * this checks that every kind of write still reaches the code. */
#include "user.h"

#define FENCE_I .word 0x0000100f
/* The encoding of `li a0, n` (addi a0, zero, n). */
#define LI_A0(n) (0x00000513 | ((n) << 20))

        .text
        .globl  _start
_start:
        /* 1: patchme returns 1, called often enough to be compiled. */
        li      s0, 0
        li      s1, 500
1:      call    patchme
        add     s0, s0, a0
        addi    s1, s1, -1
        bnez    s1, 1b
        EXPECT  s0, 500, 1

        /* 2: a plain store replaces its first instruction. */
        lla     t0, patchme
        li      t1, LI_A0(2)
        sw      t1, 0(t0)
        FENCE_I
        call    patchme
        EXPECT  a0, 2, 2
        SAY     "store ok\n"

        /* 3: selfmod stores into its own next instruction: 3 and 5 in
         * turn, 400 times (200 * 3 + 200 * 5 = 1600). */
        li      s0, 0
        li      s1, 400
2:      andi    t0, s1, 1
        li      a0, LI_A0(3)
        beqz    t0, 3f
        li      a0, LI_A0(5)
3:      call    selfmod
        add     s0, s0, a0
        addi    s1, s1, -1
        bnez    s1, 2b
        EXPECT  s0, 1600, 3
        SAY     "own block ok\n"

        /* 4: the kernel writes next to the code (same page). */
        li      a0, 1                   /* CLOCK_MONOTONIC */
        lla     a1, ts
        SYSCALL SYS_clock_gettime
        EXPECT  a0, 0, 4
        call    patchme
        EXPECT  a0, 2, 5
        SAY     "syscall ok\n"
        li      a0, 0
        SYSCALL SYS_exit_group

        /* Code that is written: a writable and executable section. */
        .section .smc, "awx"
        .balign 4096
patchme:
        li      a0, 1
        ret
selfmod:                                /* a0: what `target` becomes */
        lla     t0, target
        sw      a0, 0(t0)
        FENCE_I
target:
        li      a0, 0
        ret
        .balign 8
ts:     .dword  0, 0
