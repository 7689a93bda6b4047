# intops: integer instructions over edge-case operands (0, 1, -1, the
# largest and smallest words, patterns), including what the architecture
# leaves open and QEMU decides (division by zero), and unaligned loads and
# stores at every byte offset. It checks nothing itself: its QEMU trace
# records every result, and tests/mips_traces.rs replays it against hemu.
        .set    noreorder
        .set    mips32r2
        .text
        .globl  __start
__start:
        la      $s0, vals
        li      $s1, 4 * 8
        move    $s2, $zero
1:      move    $s3, $zero
2:      addu    $t0, $s0, $s2
        lw      $a0, 0($t0)
        addu    $t1, $s0, $s3
        lw      $a1, 0($t1)
        addu    $t2, $a0, $a1
        subu    $t3, $a0, $a1
        slt     $t4, $a0, $a1
        sltu    $t5, $a0, $a1
        sllv    $t6, $a0, $a1
        srlv    $t7, $a0, $a1
        srav    $t8, $a0, $a1
        rotrv   $t9, $a0, $a1
        nor     $v0, $a0, $a1
        mul     $v1, $a0, $a1
        mult    $a0, $a1
        mfhi    $t2
        mflo    $t3
        multu   $a0, $a1
        mfhi    $t4
        madd    $a0, $a1
        mflo    $t5
        msubu   $a0, $a1
        mfhi    $t6
        div     $zero, $a0, $a1
        mfhi    $t7
        mflo    $t8
        divu    $zero, $a0, $a1
        mfhi    $t9
        mflo    $v0
        movz    $v1, $a0, $a1
        movn    $v1, $a1, $a0
        addiu   $s3, $s3, 4
        bne     $s3, $s1, 2b
        nop
        # One-operand operations of each value.
        addu    $t0, $s0, $s2
        lw      $a0, 0($t0)
        clz     $t1, $a0
        clo     $t2, $a0
        seb     $t3, $a0
        seh     $t4, $a0
        wsbh    $t5, $a0
        rotr    $t6, $a0, 7
        sra     $t7, $a0, 31
        srl     $t8, $a0, 1
        ext     $t9, $a0, 3, 17
        ins     $t9, $a0, 9, 13
        sltiu   $v0, $a0, -1
        slti    $v1, $a0, -32768
        xori    $v0, $a0, 0xffff
        lui     $v1, 0x8765
        # Branches on the value (each taken or not).
        bltzal  $a0, 3f
        nop
3:      bgezall $a0, 4f
        nop
4:      blezl   $a0, 5f
        addiu   $t0, $t0, 1
5:      bgtzl   $a0, 6f
        addiu   $t0, $t0, 2
6:      addiu   $s2, $s2, 4
        bne     $s2, $s1, 1b
        nop
        # Unaligned words at every offset, both directions.
        la      $s0, bytes
        li      $s4, 0
7:      addu    $t0, $s0, $s4
        lwl     $a0, 0($t0)
        lwr     $a0, 3($t0)
        lwr     $a1, 0($t0)
        lwl     $a1, 3($t0)
        li      $a2, 0
        lwl     $a2, 2($t0)
        li      $a3, -1
        lwr     $a3, 1($t0)
        la      $t1, scratch
        sw      $zero, 0($t1)
        sw      $zero, 4($t1)
        addu    $t1, $t1, $s4
        swl     $a0, 0($t1)
        swr     $a0, 3($t1)
        la      $t1, scratch
        lw      $t2, 0($t1)
        lw      $t3, 4($t1)
        addiu   $s4, $s4, 1
        li      $t0, 4
        bne     $s4, $t0, 7b
        nop
        # LL/SC: success, then an SC without a reservation fails.
        la      $t0, scratch
        ll      $t1, 0($t0)
        addiu   $t1, $t1, 1
        sc      $t1, 0($t0)
        sc      $t1, 0($t0)             # no reservation: fails
        lw      $t2, 0($t0)
        li      $a0, 0
        li      $v0, 4246               # exit_group
        syscall

        .data
        .align  2
vals:   .word   0, 1, -1, 0x7fffffff, 0x80000000, 0x12345678, 31, 0xfffff000
bytes:  .byte   0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88
scratch: .word  0, 0, 0
