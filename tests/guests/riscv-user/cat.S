/* cat.S - prints the file named by argv[1] twice: through openat/read,
 * then through a private file mapping; also fstat's size, lseek, close,
 * and the errors ENOENT (missing file) and EBADF (closed descriptor). */
#include "user.h"

        .text
        .globl  _start
_start:
        LREG    t0, 0(sp)
        li      t1, 2
        bltu    t0, t1, usage
        LREG    s0, 2 * REGBYTES(sp)    /* argv[1] */

        li      a0, AT_FDCWD
        mv      a1, s0
        li      a2, 0                   /* O_RDONLY */
        li      a3, 0
        SYSCALL SYS_openat
        mv      s1, a0
        bltz    s1, bad1

        mv      a0, s1                  /* fstat: st_size at offset 48 */
        lla     a1, statbuf
        SYSCALL SYS_fstat
        EXPECT  a0, 0, 2
        lla     t0, statbuf
        ld      s2, 48(t0)
        SAY     "size="
        mv      a0, s2
        call    print_dec
        call    newline

1:      mv      a0, s1                  /* read loop, 7 bytes at a time */
        lla     a1, buf
        li      a2, 7
        SYSCALL SYS_read
        bltz    a0, bad3
        beqz    a0, 2f
        mv      a2, a0
        li      a0, 1
        lla     a1, buf
        SYSCALL SYS_write
        j       1b

2:      mv      a0, s1                  /* lseek(fd, 0, SEEK_END) == size */
        li      a1, 0
        li      a2, 2
        SYSCALL SYS_lseek
        sub     t0, a0, s2
        EXPECT  t0, 0, 4

        li      a0, 0                   /* mmap the file */
        mv      a1, s2
        li      a2, PROT_READ
        li      a3, MAP_PRIVATE
        mv      a4, s1
        li      a5, 0
        SYSCALL SYS_mmap
        li      t0, -4096
        bgeu    a0, t0, bad5
        mv      s3, a0
        li      a0, 1
        mv      a1, s3
        mv      a2, s2
        SYSCALL SYS_write
        sub     t0, a0, s2
        EXPECT  t0, 0, 6
        mv      a0, s3
        mv      a1, s2
        SYSCALL SYS_munmap
        EXPECT  a0, 0, 7

        mv      a0, s1
        SYSCALL SYS_close
        EXPECT  a0, 0, 8
        mv      a0, s1
        SYSCALL SYS_close
        EXPECT  a0, -EBADF, 9
        mv      a0, s1
        lla     a1, buf
        li      a2, 1
        SYSCALL SYS_read
        EXPECT  a0, -EBADF, 10
        SAY     "EBADF ok\n"

        li      a0, AT_FDCWD
        lla     a1, missing
        li      a2, 0
        li      a3, 0
        SYSCALL SYS_openat
        EXPECT  a0, -ENOENT, 11
        SAY     "ENOENT ok\n"

        li      a0, 0
        SYSCALL SYS_exit_group

usage:  SAY     "usage: cat FILE\n"
        li      a0, 2
        SYSCALL SYS_exit_group
bad1:   li      a0, 1
        j       fail
bad3:   li      a0, 3
        j       fail
bad5:   li      a0, 5
        j       fail

        .section .rodata
missing: .asciz "/nonexistent/hemu-test-file"

        .bss
        .balign 8
statbuf: .space 128
buf:    .space  16
