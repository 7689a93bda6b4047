/*
 * user.h - shared definitions of hemu's Linux user-mode test guests
 * (`hemu run`): static, -nostdlib, base integer ISA only (RV32I/RV64I),
 * system calls with the asm-generic numbers (number in a7, arguments in
 * a0..a5, result or -errno in a0).
 *
 * Conventions: the helpers in ulib.S clobber a0-a7 and t0-t6 only; the
 * programs keep their state in s0-s11. SAY "text" prints a string.
 */
#ifndef USER_H
#define USER_H

#if __riscv_xlen == 64
#define LREG ld
#define SREG sd
#define REGBYTES 8
#define LOG_REGBYTES 3
#else
#define LREG lw
#define SREG sw
#define REGBYTES 4
#define LOG_REGBYTES 2
#endif

#define SYS_getcwd 17
#define SYS_ioctl 29
#define SYS_openat 56
#define SYS_close 57
#define SYS_lseek 62
#define SYS_read 63
#define SYS_write 64
#define SYS_readlinkat 78
#define SYS_fstat 80
#define SYS_exit 93
#define SYS_exit_group 94
#define SYS_set_tid_address 96
#define SYS_clock_gettime 113
#define SYS_kill 129
#define SYS_tgkill 131
#define SYS_rt_sigaction 134
#define SYS_rt_sigprocmask 135
#define SYS_uname 160
#define SYS_gettimeofday 169
#define SYS_getpid 172
#define SYS_gettid 178
#define SYS_brk 214
#define SYS_munmap 215
#define SYS_mremap 216
#define SYS_mmap 222
#define SYS_mprotect 226
#define SYS_prlimit64 261
#define SYS_getrandom 278

#define AT_FDCWD -100
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 2
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MREMAP_MAYMOVE 1

#define EBADF 9
#define ENOMEM 12
#define EFAULT 14
#define EINVAL 22
#define ENOTTY 25
#define ENOENT 2
#define ENOSYS 38

        .macro SYSCALL nr
        li      a7, \nr
        ecall
        .endm

        /* Print a string literal. */
        .macro SAY text
        .pushsection .rodata
77:     .asciz  "\text"
        .popsection
        lla     a0, 77b
        call    puts
        .endm

        /* Fail (print the step and exit 1) unless reg == imm. */
        .macro EXPECT reg, imm, step
        li      t6, \imm
        beq     \reg, t6, 78f
        li      a0, \step
        j       fail
78:
        .endm

#endif
