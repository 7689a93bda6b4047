# fpops: floating-point operations over special operands (zeros, ones,
# inexact values, overflow, subnormals, infinities, quiet and signalling
# NaNs in MIPS's legacy encoding: the quiet bit CLEAR means quiet), in
# every rounding mode. It checks nothing itself: its QEMU trace records
# every result and FCSR (cause, flags, condition codes) after every
# instruction, and tests/mips_traces.rs replays it against hemu.
        .set    noreorder
        .set    mips32r2
        .text
        .globl  __start
__start:
        # Doubles: every ordered pair (a, b) of the table.
        la      $s0, dvals
        li      $s1, 8 * 10
        move    $s2, $zero
1:      move    $s3, $zero
2:      addu    $t0, $s0, $s2
        ldc1    $f2, 0($t0)
        addu    $t1, $s0, $s3
        ldc1    $f4, 0($t1)
        add.d   $f6, $f2, $f4
        sub.d   $f8, $f2, $f4
        mul.d   $f10, $f2, $f4
        div.d   $f12, $f2, $f4
        c.ult.d $f2, $f4
        c.le.d  $fcc1, $f2, $f4
        c.ngl.d $fcc2, $f2, $f4
        madd.d  $f14, $f6, $f2, $f4
        addiu   $s3, $s3, 8
        bne     $s3, $s1, 2b
        nop
        addiu   $s2, $s2, 8
        bne     $s2, $s1, 1b
        nop
        # Singles: every ordered pair.
        la      $s0, svals
        li      $s1, 4 * 10
        move    $s2, $zero
3:      move    $s3, $zero
4:      addu    $t0, $s0, $s2
        lwc1    $f2, 0($t0)
        addu    $t1, $s0, $s3
        lwc1    $f4, 0($t1)
        add.s   $f6, $f2, $f4
        mul.s   $f8, $f2, $f4
        div.s   $f10, $f2, $f4
        c.seq.s $fcc3, $f2, $f4
        c.un.s  $fcc4, $f2, $f4
        nmsub.s $f12, $f6, $f2, $f4
        addiu   $s3, $s3, 4
        bne     $s3, $s1, 4b
        nop
        addiu   $s2, $s2, 4
        bne     $s2, $s1, 3b
        nop
        # Conversions and one-operand operations of each double, in each
        # rounding mode (FCSR.RM 0..3).
        move    $s4, $zero
5:      ctc1    $s4, $31
        la      $s0, dvals
        li      $s1, 8 * 10
        move    $s2, $zero
6:      addu    $t0, $s0, $s2
        ldc1    $f2, 0($t0)
        cvt.s.d $f4, $f2
        cvt.w.d $f6, $f2
        cvt.l.d $f8, $f2
        round.w.d $f10, $f2
        trunc.l.d $f12, $f2
        ceil.w.d $f14, $f2
        floor.l.d $f16, $f2
        sqrt.d  $f18, $f2
        recip.d $f20, $f2
        rsqrt.d $f22, $f2
        abs.d   $f24, $f2
        neg.d   $f26, $f2
        cvt.d.s $f28, $f4
        mfc1    $t2, $f6
        mtc1    $t2, $f30
        cvt.d.w $f30, $f30
        add.d   $f0, $f2, $f2
        movf.d  $f0, $f2, $fcc0
        movn.d  $f0, $f4, $t2
        addiu   $s2, $s2, 8
        bne     $s2, $s1, 6b
        nop
        addiu   $s4, $s4, 1
        li      $t0, 4
        bne     $s4, $t0, 5b
        nop
        # exit_group(0)
        li      $a0, 0
        li      $v0, 4246
        syscall

        .data
        .align  3
dvals:  .dword  0x0000000000000000      # +0
        .dword  0x8000000000000000      # -0
        .dword  0x3ff0000000000000      # 1
        .dword  0xc008000000000000      # -3
        .dword  0x3fb999999999999a      # 0.1
        .dword  0x7fe1ccf385ebc8a0      # 1e308
        .dword  0x0000000000000001      # smallest subnormal
        .dword  0x7ff0000000000000      # +inf
        .dword  0x7ff4000000000001      # quiet NaN (legacy)
        .dword  0x7ff8000000000001      # signalling NaN (legacy)
svals:  .word   0x00000000              # +0
        .word   0x80000000              # -0
        .word   0x3f800000              # 1
        .word   0xc0400000              # -3
        .word   0x3dcccccd              # 0.1
        .word   0x7f7fffff              # largest
        .word   0x00000001              # smallest subnormal
        .word   0xff800000              # -inf
        .word   0x7fa00001              # quiet NaN (legacy)
        .word   0x7fc00001              # signalling NaN (legacy)
