/* efault.S - bad pointers given to system calls return -EFAULT instead
 * of crashing anything. */
#include "user.h"

#define BAD 0x8                         /* never mapped */

        .text
        .globl  _start
_start:
        li      a0, 1                   /* write from a bad buffer */
        li      a1, BAD
        li      a2, 10
        SYSCALL SYS_write
        EXPECT  a0, -EFAULT, 1
        li      a0, 0                   /* read into a bad buffer */
        li      a1, BAD
        li      a2, 10
        SYSCALL SYS_read
        EXPECT  a0, -EFAULT, 2
        li      a0, AT_FDCWD            /* a bad path */
        li      a1, BAD
        li      a2, 0
        li      a3, 0
        SYSCALL SYS_openat
        EXPECT  a0, -EFAULT, 3
        li      a0, BAD                 /* a bad struct */
        SYSCALL SYS_uname
        EXPECT  a0, -EFAULT, 4
        li      a0, 1                   /* a buffer running off the stack top */
        mv      a1, sp
        li      a2, 0x1000000
        SYSCALL SYS_write
        EXPECT  a0, -EFAULT, 5
        SAY     "EFAULT ok\n"
        li      a0, 0
        SYSCALL SYS_exit_group
