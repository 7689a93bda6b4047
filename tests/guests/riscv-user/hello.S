/* hello.S - write(1, ...) a greeting, then exit_group(0). Built for RV64
 * and RV32. */
#include "user.h"

        .text
        .globl  _start
_start:
        li      a0, 1
        lla     a1, msg
        lla     a2, msg_end
        sub     a2, a2, a1
        SYSCALL SYS_write
        li      a0, 0
        SYSCALL SYS_exit_group

        .section .rodata
msg:
#if __riscv_xlen == 64
        .ascii  "Hello from hemu user mode (rv64)\n"
#else
        .ascii  "Hello from hemu user mode (rv32)\n"
#endif
msg_end:
