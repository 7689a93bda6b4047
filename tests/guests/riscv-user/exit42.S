/* exit42.S - exit(42) (the single-thread exit, not exit_group). */
#include "user.h"

        .text
        .globl  _start
_start:
        li      a0, 42
        SYSCALL SYS_exit
