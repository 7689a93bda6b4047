/* Prints "Hello from hemu (rv32)\n" on the UART and exits with status 0. */
#include "common.h"

        .section .text.init
        .globl _start
_start:
        lla     sp, _stack_top
        lla     a0, msg
        jal     ra, puts
        li      a0, 0
        j       exit

GUEST_ROUTINES

        .section .rodata
msg:    .asciz  "Hello from hemu (rv32)\n"
