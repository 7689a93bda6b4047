/* abort.S - signals to itself: SIGUSR1 set to SIG_IGN is ignored,
 * SIGCHLD's default is to ignore it, a blocked SIGABRT stays pending, and
 * unblocking it ends the process the way abort() does (hemu exits with
 * 134 = 128 + SIGABRT). */
#include "user.h"

#define SIGABRT 6
#define SIGUSR1 10
#define SIGCHLD 17

        .text
        .globl  _start
_start:
        li      a0, SIGUSR1             /* rt_sigaction(SIGUSR1, {SIG_IGN}) */
        lla     a1, ign
        li      a2, 0
        li      a3, 8
        SYSCALL SYS_rt_sigaction
        EXPECT  a0, 0, 1
        SYSCALL SYS_getpid
        mv      s0, a0
        mv      a0, s0
        li      a1, SIGUSR1
        SYSCALL SYS_kill
        EXPECT  a0, 0, 2
        mv      a0, s0
        li      a1, SIGCHLD
        SYSCALL SYS_kill
        EXPECT  a0, 0, 3
        SAY     "ignored ok\n"
        li      a0, 0                   /* SIG_BLOCK SIGABRT */
        lla     a1, abrt_set
        li      a2, 0
        li      a3, 8
        SYSCALL SYS_rt_sigprocmask
        EXPECT  a0, 0, 4
        SYSCALL SYS_gettid
        mv      a1, a0
        mv      a0, s0
        li      a2, SIGABRT
        SYSCALL SYS_tgkill
        EXPECT  a0, 0, 5
        SAY     "blocked ok\n"
        li      a0, 1                   /* SIG_UNBLOCK: the pending SIGABRT ends it */
        lla     a1, abrt_set
        li      a2, 0
        li      a3, 8
        SYSCALL SYS_rt_sigprocmask
        SAY     "still alive\n"
        li      a0, 0
        SYSCALL SYS_exit_group

        .section .rodata
        .balign 8
ign:    .dword  1, 0, 0                 /* handler SIG_IGN, flags, mask */
abrt_set: .dword 1 << (SIGABRT - 1)
