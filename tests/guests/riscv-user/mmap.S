/* mmap.S - anonymous private mappings: map three pages, use them, unmap
 * the middle one, map it again with MAP_FIXED (zeroed), grow and shrink
 * the mapping with mremap, unmap all; the argument errors EINVAL and
 * ENOMEM. */
#include "user.h"

        .text
        .globl  _start
_start:
        li      a0, 0
        li      a1, 0x3000
        li      a2, PROT_READ | PROT_WRITE
        li      a3, MAP_PRIVATE | MAP_ANONYMOUS
        li      a4, -1
        li      a5, 0
        SYSCALL SYS_mmap
        mv      s0, a0
        li      t1, 0xfff
        and     t0, s0, t1
        EXPECT  t0, 0, 1
        li      t0, -4096
        bgeu    s0, t0, bad2            /* an error */
        li      t0, 0x11
        sb      t0, 0(s0)
        li      t1, 0x1000
        add     s1, s0, t1              /* middle page */
        li      t0, 0x22
        sb      t0, 0(s1)
        add     s2, s1, t1              /* last page; s3: its last byte */
        li      t2, 0xfff
        add     s3, s2, t2
        li      t0, 0x33
        sb      t0, 0(s3)

        mv      a0, s1                  /* unmap the middle page */
        li      a1, 0x1000
        SYSCALL SYS_munmap
        EXPECT  a0, 0, 3
        lbu     t0, 0(s0)
        EXPECT  t0, 0x11, 4
        lbu     t0, 0(s3)
        EXPECT  t0, 0x33, 5

        mv      a0, s1                  /* map it again, fixed */
        li      a1, 0x1000
        li      a2, PROT_READ | PROT_WRITE
        li      a3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
        li      a4, -1
        li      a5, 0
        SYSCALL SYS_mmap
        sub     t0, a0, s1
        EXPECT  t0, 0, 6
        lbu     t0, 0(s1)
        EXPECT  t0, 0, 7

        mv      a0, s0                  /* grow it: mremap may move it */
        li      a1, 0x3000
        li      a2, 0x5000
        li      a3, MREMAP_MAYMOVE
        SYSCALL SYS_mremap
        li      t0, -4096
        bgeu    a0, t0, bad15
        mv      s4, a0
        lbu     t0, 0(s4)               /* contents move along */
        EXPECT  t0, 0x11, 16
        li      t1, 0x2fff
        add     t1, s4, t1
        lbu     t0, 0(t1)
        EXPECT  t0, 0x33, 17
        li      t1, 0x4fff              /* the new part is zero and usable */
        add     t1, s4, t1
        lbu     t0, 0(t1)
        EXPECT  t0, 0, 18
        sb      t1, 0(t1)
        mv      a0, s4                  /* shrink it back in place */
        li      a1, 0x5000
        li      a2, 0x3000
        li      a3, 0
        SYSCALL SYS_mremap
        sub     t0, a0, s4
        EXPECT  t0, 0, 19
        mv      s0, s4
        li      t1, 0x2000
        add     s2, s0, t1

        mv      a0, s0                  /* mprotect the whole range */
        li      a1, 0x3000
        li      a2, PROT_READ
        SYSCALL SYS_mprotect
        EXPECT  a0, 0, 8

        mv      a0, s0                  /* unmap everything */
        li      a1, 0x3000
        SYSCALL SYS_munmap
        EXPECT  a0, 0, 9

        mv      a0, s0                  /* mprotect of unmapped memory */
        li      a1, 0x1000
        li      a2, PROT_READ
        SYSCALL SYS_mprotect
        EXPECT  a0, -ENOMEM, 10

        li      a0, 0                   /* length 0 */
        li      a1, 0
        li      a2, PROT_READ
        li      a3, MAP_PRIVATE | MAP_ANONYMOUS
        li      a4, -1
        li      a5, 0
        SYSCALL SYS_mmap
        EXPECT  a0, -EINVAL, 11

        li      a0, 0                   /* neither private nor shared */
        li      a1, 0x1000
        li      a2, PROT_READ
        li      a3, MAP_ANONYMOUS
        li      a4, -1
        li      a5, 0
        SYSCALL SYS_mmap
        EXPECT  a0, -EINVAL, 12

        addi    a0, s0, 1               /* unaligned munmap */
        li      a1, 0x1000
        SYSCALL SYS_munmap
        EXPECT  a0, -EINVAL, 13

        li      a0, 0                   /* more than the address space */
        li      a1, -0x2000
        li      a2, PROT_READ
        li      a3, MAP_PRIVATE | MAP_ANONYMOUS
        li      a4, -1
        li      a5, 0
        SYSCALL SYS_mmap
        EXPECT  a0, -ENOMEM, 14

        SAY     "mmap ok\n"
        li      a0, 0
        SYSCALL SYS_exit_group
bad2:   li      a0, 2
        j       fail
bad15:  li      a0, 15
        j       fail
