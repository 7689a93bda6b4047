/* auxv.S - prints what the kernel put on the initial stack: argc, argv,
 * envp and the auxiliary vector entries that do not depend on the host
 * (AT_RANDOM's bytes are fixed by `hemu run --seed`). Built for RV64 and
 * RV32, whose words differ. */
#include "user.h"

        .text
        .globl  _start
_start:
        mv      s0, sp
        SAY     "sp%16="
        andi    a0, s0, 15
        call    print_dec
        call    newline

        LREG    s1, 0(s0)               /* argc */
        SAY     "argc="
        mv      a0, s1
        call    print_dec
        call    newline
        addi    s2, s0, REGBYTES        /* argv */
        li      s3, 0
1:      bgeu    s3, s1, 2f
        SAY     "argv["
        mv      a0, s3
        call    print_dec
        SAY     "]="
        slli    t0, s3, LOG_REGBYTES
        add     t0, s2, t0
        LREG    a0, 0(t0)
        call    puts
        call    newline
        addi    s3, s3, 1
        j       1b
2:      slli    t0, s1, LOG_REGBYTES
        add     t0, s2, t0
        LREG    t1, 0(t0)
        EXPECT  t1, 0, 1                /* argv[argc] == NULL */
        addi    s2, t0, REGBYTES        /* envp */
3:      LREG    a0, 0(s2)
        beqz    a0, 4f
        SAY     "env="
        LREG    a0, 0(s2)
        call    puts
        call    newline
        addi    s2, s2, REGBYTES
        j       3b

        /* auxv: remember values of keys < 64 in aux[], mark seen[] */
4:      addi    s2, s2, REGBYTES
        lla     s3, aux
        lla     s4, seen
5:      LREG    t0, 0(s2)
        LREG    t1, REGBYTES(s2)
        beqz    t0, 6f
        li      t2, 64
        bgeu    t0, t2, 7f
        slli    t2, t0, LOG_REGBYTES
        add     t2, s3, t2
        SREG    t1, 0(t2)
        add     t2, s4, t0
        li      t3, 1
        sb      t3, 0(t2)
7:      addi    s2, s2, 2 * REGBYTES
        j       5b

6:      SAY     "AT_PAGESZ="
        LREG    a0, 6 * REGBYTES(s3)
        call    print_dec
        call    newline
        SAY     "AT_CLKTCK="
        LREG    a0, 17 * REGBYTES(s3)
        call    print_dec
        call    newline
        SAY     "AT_PHENT="
        LREG    a0, 4 * REGBYTES(s3)
        call    print_dec
        call    newline
        SAY     "AT_SECURE="
        LREG    a0, 23 * REGBYTES(s3)
        call    print_dec
        call    newline
        SAY     "AT_BASE="
        LREG    a0, 7 * REGBYTES(s3)
        call    print_dec
        call    newline

        LREG    t0, 9 * REGBYTES(s3)    /* AT_ENTRY == _start */
        lla     t1, _start
        sub     t0, t0, t1
        EXPECT  t0, 0, 2
        SAY     "AT_ENTRY ok\n"

        /* AT_PHDR: count the PT_LOAD headers */
        LREG    s5, 3 * REGBYTES(s3)
        LREG    s6, 5 * REGBYTES(s3)
        LREG    s7, 4 * REGBYTES(s3)
        li      s8, 0
8:      beqz    s6, 9f
        lw      t0, 0(s5)
        li      t1, 1
        bne     t0, t1, 10f
        addi    s8, s8, 1
10:     add     s5, s5, s7
        addi    s6, s6, -1
        j       8b
9:      SAY     "PT_LOAD headers="
        mv      a0, s8
        call    print_dec
        call    newline

        lbu     t0, 11(s4)              /* AT_UID, AT_EUID, AT_GID, AT_EGID */
        lbu     t1, 12(s4)
        and     t0, t0, t1
        lbu     t1, 13(s4)
        and     t0, t0, t1
        lbu     t1, 14(s4)
        and     t0, t0, t1
        EXPECT  t0, 1, 3
        SAY     "AT_UID..AT_EGID present\n"

        LREG    t0, 16 * REGBYTES(s3)   /* AT_HWCAP has 'i' */
        srli    t0, t0, 'i' - 'a'
        andi    t0, t0, 1
        EXPECT  t0, 1, 4
        SAY     "AT_HWCAP has I\n"

        SAY     "AT_EXECFN="
        LREG    a0, 31 * REGBYTES(s3)
        call    puts
        call    newline
        SAY     "AT_PLATFORM="
        LREG    a0, 15 * REGBYTES(s3)
        bnez    a0, 12f
        lla     a0, none
12:     call    puts
        call    newline

        SAY     "AT_RANDOM="
        LREG    s5, 25 * REGBYTES(s3)
        addi    s6, s5, 16
11:     lbu     a0, 0(s5)
        li      a1, 2
        call    print_hex
        addi    s5, s5, 1
        bltu    s5, s6, 11b
        call    newline

        li      a0, 0
        SYSCALL SYS_exit_group

        .section .rodata
none:   .asciz  "(none)"

        .bss
        .balign 8
aux:    .space  64 * REGBYTES
seen:   .space  64
