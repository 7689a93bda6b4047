/* segv.S - stores to a page it has just unmapped: the process dies like
 * a host SIGSEGV (hemu exits with 139). */
#include "user.h"

        .text
        .globl  _start
_start:
        li      a0, 0
        li      a1, 0x1000
        li      a2, PROT_READ | PROT_WRITE
        li      a3, MAP_PRIVATE | MAP_ANONYMOUS
        li      a4, -1
        li      a5, 0
        SYSCALL SYS_mmap
        mv      s0, a0
        sb      zero, 0(s0)
        mv      a0, s0
        li      a1, 0x1000
        SYSCALL SYS_munmap
        SAY     "unmapped\n"
        .globl  faulting_store
faulting_store:
        sb      zero, 0(s0)
        SAY     "still alive\n"
        li      a0, 0
        SYSCALL SYS_exit_group
