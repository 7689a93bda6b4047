/* misc.S - uname, clocks, getrandom (printed: fixed by --seed),
 * set_tid_address, prlimit64(RLIMIT_STACK), readlinkat of
 * /proc/self/exe, ioctl TCGETS on a pipe (ENOTTY), rt_sigprocmask. */
#include "user.h"

        .text
        .globl  _start
_start:
        lla     a0, utsname
        SYSCALL SYS_uname
        EXPECT  a0, 0, 1
        SAY     "sysname="
        lla     a0, utsname
        call    puts
        call    newline
        SAY     "machine="
        lla     a0, utsname + 4 * 65
        call    puts
        call    newline

        li      a0, 1                   /* CLOCK_MONOTONIC */
        lla     a1, ts
        SYSCALL SYS_clock_gettime
        EXPECT  a0, 0, 2
        li      a0, 0                   /* CLOCK_REALTIME: after 2020 */
        lla     a1, ts
        SYSCALL SYS_clock_gettime
        EXPECT  a0, 0, 3
        ld      t0, ts
        li      t1, 1577836800
        bltu    t0, t1, bad4
        lla     a0, ts
        li      a1, 0
        SYSCALL SYS_gettimeofday
        EXPECT  a0, 0, 5
        SAY     "clocks ok\n"

        lla     a0, rnd
        li      a1, 16
        li      a2, 0
        SYSCALL SYS_getrandom
        EXPECT  a0, 16, 6
        SAY     "getrandom="
        lla     s0, rnd
        addi    s1, s0, 16
1:      lbu     a0, 0(s0)
        li      a1, 2
        call    print_hex
        addi    s0, s0, 1
        bltu    s0, s1, 1b
        call    newline

        lla     a0, ts
        SYSCALL SYS_set_tid_address
        mv      s0, a0
        SYSCALL SYS_getpid
        sub     t0, a0, s0
        EXPECT  t0, 0, 7
        SAY     "tid ok\n"

        li      a0, 0                   /* prlimit64(0, RLIMIT_STACK, NULL, &old) */
        li      a1, 3
        li      a2, 0
        lla     a3, rlim
        SYSCALL SYS_prlimit64
        EXPECT  a0, 0, 8
        SAY     "stack limit="
        ld      a0, rlim
        call    print_dec
        call    newline

        li      a0, AT_FDCWD
        lla     a1, self_exe
        lla     a2, path
        li      a3, 255
        SYSCALL SYS_readlinkat
        blez    a0, bad9
        SAY     "exe="
        lla     a0, path
        call    puts
        call    newline

        li      a0, 1                   /* stdout is a pipe in the tests */
        li      a1, 0x5401              /* TCGETS */
        lla     a2, path
        SYSCALL SYS_ioctl
        EXPECT  a0, -ENOTTY, 10
        SAY     "ENOTTY ok\n"

        li      a0, 0                   /* SIG_BLOCK */
        lla     a1, rlim
        lla     a2, ts
        li      a3, 8
        SYSCALL SYS_rt_sigprocmask
        EXPECT  a0, 0, 11
        SAY     "sigprocmask ok\n"

        li      a0, 0
        SYSCALL SYS_exit_group
bad4:   li      a0, 4
        j       fail
bad9:   li      a0, 9
        j       fail

        .section .rodata
self_exe: .asciz "/proc/self/exe"

        .bss
        .balign 8
utsname: .space 6 * 65
        .balign 8
ts:     .space  16
rlim:   .space  16
rnd:    .space  16
path:   .space  256
