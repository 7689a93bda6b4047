/* Prints "exiting with 7\n" and exits through the sifive_test finisher with code 7. */
#include "common.h"

        .section .text.init
        .globl _start
_start:
        lla     sp, _stack_top
        lla     a0, msg
        jal     ra, puts
        li      a0, 7
        j       exit

GUEST_ROUTINES

        .section .rodata
msg:    .asciz  "exiting with 7\n"
