/* enosys.S - system calls hemu does not implement return -ENOSYS (hemu
 * notes each number once on stderr) and the program goes on. */
#include "user.h"

        .text
        .globl  _start
_start:
        li      s0, 2
1:      SYSCALL 999
        EXPECT  a0, -ENOSYS, 1
        addi    s0, s0, -1
        bnez    s0, 1b
        SYSCALL 258                     /* riscv_hwprobe */
        EXPECT  a0, -ENOSYS, 2
        SAY     "ENOSYS ok\n"
        li      a0, 0
        SYSCALL SYS_exit_group
