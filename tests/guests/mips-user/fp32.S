# fp32: an FP32-ABI program (`.module fp=32`: .MIPS.abiflags says "double
# precision, 32-bit registers"), which Linux and QEMU run with Status.FR = 0:
# a double lives in an even/odd register pair. It builds doubles from word
# halves with mtc1 on both registers of a pair, computes, and takes the
# result apart with mfc1; exit status 0 when the pair layout held.
        .module fp=32
        .set    noreorder
        .set    mips32r2
        .text
        .globl  __start
__start:
        li      $t0, 0x3ff80000         # 1.5, high word
        mtc1    $zero, $f2
        mtc1    $t0, $f3
        add.d   $f4, $f2, $f2           # 3.0 = 0x40080000_00000000
        mfc1    $t1, $f5
        mfc1    $t2, $f4
        li      $t3, 0x40080000
        bne     $t1, $t3, fail
        nop
        bnez    $t2, fail
        nop
        ldc1    $f6, pi                 # a pair from memory
        mul.d   $f8, $f6, $f4
        mfc1    $t4, $f9
        mfc1    $t5, $f8
        cvt.s.d $f10, $f8
        mfc1    $t6, $f10
        li      $t3, 0x4116cbe4         # (float)(3 * pi)
        bne     $t6, $t3, fail
        nop
        li      $a0, 0
        li      $v0, 4246               # exit_group
        syscall
fail:   li      $a0, 1
        li      $v0, 4246
        syscall
        .data
        .align  3
pi:     .double 3.141592653589793
