/* illegal.S - executes an all-zero word: the process dies like a host
 * SIGILL (hemu exits with 132). */
#include "user.h"

        .text
        .globl  _start
_start:
        SAY     "before\n"
        .globl  illegal_insn
illegal_insn:
        .word   0
        SAY     "after\n"
        li      a0, 0
        SYSCALL SYS_exit_group
