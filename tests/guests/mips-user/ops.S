# ops: a self-checking tour of MIPS32r2 user-mode instructions. Each check
# loads its number into s7 first; a failed check exits with that number,
# success prints "ops OK" and exits 0. Deterministic (no addresses the
# emulator chooses end up compared), so QEMU's trace of it is exact.
        .set    noreorder
        .set    mips32r2
        .text
        .globl  __start
__start:
        la      $s0, data
        # 1: delay slot of a taken branch runs before the target
        li      $s7, 1
        li      $t0, 0
        b       1f
        addiu   $t0, $t0, 5             # delay slot
        addiu   $t0, $t0, 100           # skipped
1:      li      $t1, 5
        bne     $t0, $t1, fail
        nop
        # 2: branch-likely not taken annuls its slot
        li      $s7, 2
        li      $t0, 0
        beql    $t0, $s7, fail
        addiu   $t0, $t0, 1             # annulled
        bnez    $t0, fail
        nop
        # 3: bal / jalr link past the delay slot
        li      $s7, 3
        bal     2f
        nop
        b       fail
        nop
2:      la      $t0, 3f
        jalr    $t0
        move    $t2, $ra                # delay slot sees the old ra
3:      la      $t1, 3b
        bne     $ra, $t1, fail
        nop
        # 4: mult, multu, div, divu, madd, mul
        li      $s7, 4
        li      $t0, -7
        li      $t1, 3
        mult    $t0, $t1
        mflo    $t2
        mfhi    $t3
        li      $t4, -21
        bne     $t2, $t4, fail
        li      $t4, -1
        bne     $t3, $t4, fail
        div     $zero, $t0, $t1
        mflo    $t2
        mfhi    $t3
        li      $t4, -2
        bne     $t2, $t4, fail
        li      $t4, -1
        bne     $t3, $t4, fail
        li      $t0, 0xffffffff
        multu   $t0, $t0
        mfhi    $t3
        li      $t4, 0xfffffffe
        bne     $t3, $t4, fail
        madd    $t1, $t1                # hi:lo += 9
        mflo    $t2
        li      $t4, 10
        bne     $t2, $t4, fail
        mul     $t2, $t1, $t1
        li      $t4, 9
        bne     $t2, $t4, fail
        nop
        # 5: bit operations
        li      $s7, 5
        li      $t0, 0x12345678
        ext     $t1, $t0, 4, 8
        li      $t4, 0x67
        bne     $t1, $t4, fail
        ins     $t0, $zero, 8, 8
        li      $t4, 0x12340078
        bne     $t0, $t4, fail
        wsbh    $t1, $t0
        li      $t4, 0x34127800
        bne     $t1, $t4, fail
        seb     $t1, $t4
        bnez    $t1, fail
        li      $t4, 0x80
        seb     $t1, $t4
        li      $t4, -128
        bne     $t1, $t4, fail
        rotr    $t1, $t0, 4
        li      $t4, 0x81234007
        bne     $t1, $t4, fail
        clz     $t1, $t0
        li      $t4, 3
        bne     $t1, $t4, fail
        clo     $t1, $t4
        bnez    $t1, fail
        li      $t0, 5
        movz    $t1, $t0, $zero
        bne     $t1, $t0, fail
        nop
        # 6: unaligned word load and store (lwl/lwr, swl/swr)
        li      $s7, 6
        ulw     $t0, 1($s0)             # lwl + lwr, in the byte order's order
        lw      $t1, 8($s0)             # what bytes 1..4 read as a word
        bne     $t0, $t1, fail
        nop
        usw     $t0, 17($s0)            # swl + swr
        ulw     $t2, 17($s0)
        bne     $t2, $t0, fail
        nop
        # 7: ll/sc
        li      $s7, 7
        ll      $t0, 12($s0)
        addiu   $t0, $t0, 1
        sc      $t0, 12($s0)
        beqz    $t0, fail
        lw      $t1, 12($s0)
        li      $t4, 43
        bne     $t1, $t4, fail
        nop
        # 8: TLS: set_thread_area, then rdhwr $29
        li      $s7, 8
        li      $a0, 0x12345670
        li      $v0, 4283               # set_thread_area
        syscall
        bnez    $a3, fail
        rdhwr   $t0, $29
        bne     $t0, $a0, fail
        nop
        # 9: errors: write(-1) gives a3 = 1, v0 = EBADF (9)
        li      $s7, 9
        li      $a0, -1
        move    $a1, $s0
        li      $a2, 1
        li      $v0, 4004
        syscall
        beqz    $a3, fail
        li      $t4, 9
        bne     $v0, $t4, fail
        nop
        # 10: FPU, double and single
        li      $s7, 10
        li      $t0, 7
        mtc1    $t0, $f0
        cvt.d.w $f2, $f0                # 7.0
        li      $t0, 2
        mtc1    $t0, $f4
        cvt.d.w $f4, $f4                # 2.0
        div.d   $f6, $f2, $f4           # 3.5
        mul.d   $f6, $f6, $f4           # 7.0
        c.eq.d  $f6, $f2
        bc1f    fail
        sqrt.d  $f8, $f4
        mul.d   $f8, $f8, $f8           # 2.0000000000000004
        c.lt.d  $f4, $f8
        bc1f    fail
        nop
        trunc.w.d $f10, $f2
        mfc1    $t1, $f10
        li      $t4, 7
        bne     $t1, $t4, fail
        cvt.s.d $f12, $f2
        add.s   $f12, $f12, $f12        # 14.0f
        mfc1    $t1, $f12
        li      $t4, 0x41600000
        bne     $t1, $t4, fail
        ldc1    $f14, 24($s0)           # 1.5
        sdc1    $f14, 32($s0)
        lw      $t1, 32($s0)
        lw      $t2, 36($s0)
        or      $t1, $t1, $t2
        li      $t4, 0x3ff80000
        bne     $t1, $t4, fail
        neg.d   $f14, $f14
        c.le.d  $f14, $f2
        bc1f    fail
        cfc1    $t1, $31
        li      $t4, 0x4                # flags: inexact (sqrt 2)
        and     $t1, $t1, $t4
        beqz    $t1, fail
        nop
        # done: write "ops OK\n", exit 0
        li      $a0, 1
        la      $a1, ok
        li      $a2, 7
        li      $v0, 4004
        syscall
        li      $a0, 0
        li      $v0, 4246
        syscall
fail:   move    $a0, $s7
        li      $v0, 4246
        syscall
        .data
        .align  3
data:   .byte   0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17
        .byte   0x11, 0x12, 0x13, 0x14  # 8: bytes 1..4 as a word
        .word   42                      # 12: ll/sc
        .word   0, 0                    # 16: swl/swr target
        .double 1.5                     # 24
        .double 0                       # 32
ok:     .ascii  "ops OK\n"
