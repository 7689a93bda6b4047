/* exc: exceptions and interrupts of a MIPS32r2 CPU, checked by the guest
   itself. The handler (EBase + 0x180) records Cause, EPC and BadVAddr and
   resumes after the faulting instruction (after the branch and its slot
   when Cause.BD says the fault was in a delay slot); interrupts clear their
   source. Each check prints nothing on success; the first failure prints
   "FAIL" and stops the machine with the check's number as the failure
   code; success prints "exc OK" and passes. */
#include "common.h"
        .set    noreorder
        .set    mips32r2
        .set    fp=32                   /* FR = 0 code: odd singles allowed */
        .set    oddspreg

/* Fail with code n unless register r equals v (t8, t9 are scratch). */
#define EXPECT(n, r, v) li $t9, v; li $s7, n; bne r, $t9, fail; nop
/* The same for an address v. */
#define EXPECT_AT(n, r, v) la $t9, v; li $s7, n; bne r, $t9, fail; nop
/* The last exception's ExcCode into t8. */
#define LAST_CODE lw $t8, seen_cause; ext $t8, $t8, 2, 5
/* The last exception's EPC into t8. */
#define LAST_EPC lw $t8, seen_epc

        .section .text.start, "ax"
        .globl  _start
_start:
        la      $sp, stack_top
        la      $t0, vectors
        mtc0    $t0, C0_EBASE
        mtc0    $zero, C0_STATUS        /* kernel mode, BEV = ERL = 0, IE = 0 */
        ehb

        /* 1: syscall */
t1:     syscall
        LAST_CODE
        EXPECT(1, $t8, 8)
        LAST_EPC
        EXPECT_AT(1, $t8, t1)
        /* 2: break */
t2:     break   7
        LAST_CODE
        EXPECT(2, $t8, 9)
        /* 3: misaligned load: AdEL with BadVAddr */
        li      $t0, 0x80002001
t3:     lw      $t1, 0($t0)
        LAST_CODE
        EXPECT(3, $t8, 4)
        lw      $t8, seen_bad
        EXPECT(3, $t8, 0x80002001)
        /* 4: misaligned store: AdES */
t4:     sh      $t1, 0($t0)
        LAST_CODE
        EXPECT(4, $t8, 5)
        /* 5: reserved instruction */
t5:     .word   0xec000000
        LAST_CODE
        EXPECT(5, $t8, 10)
        LAST_EPC
        EXPECT_AT(5, $t8, t5)
        /* 6: integer overflow */
        li      $t0, 0x7fffffff
t6:     add     $t1, $t0, $t0
        LAST_CODE
        EXPECT(6, $t8, 12)
        /* 7: conditional trap */
t7:     teq     $zero, $zero
        LAST_CODE
        EXPECT(7, $t8, 13)
        /* 8: FPU instruction with Status.CU1 clear: CpU, Cause.CE = 1 */
t8:     mfc1    $t0, $f0
        LAST_CODE
        EXPECT(8, $t8, 11)
        lw      $t8, seen_cause
        ext     $t8, $t8, 28, 2
        EXPECT(8, $t8, 1)
        /* 9: fault in a delay slot: EPC is the branch, Cause.BD set */
        li      $t0, 0x80002001
t9:     beq     $zero, $zero, 1f
        lw      $t1, 0($t0)
1:      LAST_EPC
        EXPECT_AT(9, $t8, t9)
        lw      $t8, seen_cause
        srl     $t8, $t8, 31
        EXPECT(9, $t8, 1)
        lw      $t8, seen_count
        EXPECT(9, $t8, 9)
        /* 10: software interrupt IP0, taken right after the mtc0 */
        li      $t0, 0x100 | 1          /* IM0, IE */
        mtc0    $t0, C0_STATUS
        li      $t0, 0x100              /* Cause.IP0 */
        mtc0    $t0, C0_CAUSE
t10:    nop
        LAST_CODE
        EXPECT(10, $t8, 0)
        LAST_EPC
        EXPECT_AT(10, $t8, t10)
        lw      $t8, seen_count
        EXPECT(10, $t8, 10)
        /* The reference trace from QEMU's Malta board (which has no ACLINT)
           ends here, at the only SYNC of this program. */
        sync
        /* 11: timer interrupt: ACLINT mtimecmp = mtime + 1000 on IP7, WAIT */
        li      $t1, CLINT_BASE + 0xbff8
        lw      $t0, 0($t1)             /* mtime, low word */
        TO_LE($t0)
        addiu   $t0, $t0, 1000
        TO_LE($t0)
        li      $t1, CLINT_BASE + 0x4000
        sw      $zero, 4($t1)
        sw      $t0, 0($t1)
        li      $t0, 0x8000 | 1         /* IM7, IE */
        mtc0    $t0, C0_STATUS
1:      lw      $t8, seen_count
        li      $t9, 11
        beq     $t8, $t9, 2f
        nop
        wait                            /* until the timer interrupt */
        b       1b
        nop
2:
        LAST_CODE
        EXPECT(11, $t8, 0)
        lw      $t8, seen_cause
        ext     $t8, $t8, 15, 1         /* IP7 was pending */
        EXPECT(11, $t8, 1)
        mtc0    $zero, C0_STATUS
        /* 12: the FPU with Status.FR = 0 (reset value): a double is the
           low words of an even/odd pair; an odd register is reserved. */
        li      $t0, 1 << 29            /* CU1 */
        mtc0    $t0, C0_STATUS
        ehb
        la      $t0, onehalf
        ldc1    $f2, 0($t0)             /* 1.5 */
        add.d   $f4, $f2, $f2           /* 3.0 = 0x4008000000000000 */
        mfc1    $t1, $f5
        EXPECT(12, $t1, 0x40080000)
        mfc1    $t1, $f4
        EXPECT(12, $t1, 0)
        mfhc1   $t1, $f4                /* FR = 0: the odd register */
        EXPECT(12, $t1, 0x40080000)
        /* 13: add.d $f4, $f2, $f1 (odd source): reserved instruction */
t13:    .word   0x46211100
        LAST_CODE
        EXPECT(13, $t8, 10)
        LAST_EPC
        EXPECT_AT(13, $t8, t13)
        /* 14: an enabled FP exception: divide by zero with FCSR.EZ */
        li      $t0, 1 << 10            /* Enables.Z */
        ctc1    $t0, $31
        mtc1    $zero, $f6
        mtc1    $zero, $f7
t14:    div.d   $f8, $f2, $f6
        LAST_CODE
        EXPECT(14, $t8, 15)
        cfc1    $t1, $31
        ext     $t1, $t1, 12, 6         /* Cause */
        EXPECT(14, $t1, 8)              /* Z */
        mtc0    $zero, C0_STATUS
        /* 15: user mode (ERET with KSU = user): kseg0 is out of reach (AdEL
           with BadVAddr), SYSCALL enters the kernel's vector, and the
           handler brings a user BREAK back here in kernel mode. */
        la      $t0, user_code
        li      $t1, 0x7fffffff
        and     $t0, $t0, $t1           /* its kuseg alias (same RAM) */
        mtc0    $t0, C0_EPC
        li      $t0, 0x12               /* KSU = user, EXL */
        mtc0    $t0, C0_STATUS
        ehb
        eret
back_in_kernel:
        lw      $t8, seen_bad
        EXPECT(15, $t8, 0x80002000)
        lw      $t8, seen_count
        EXPECT(15, $t8, 16)
        LAST_CODE
        EXPECT(15, $t8, 9)

        la      $a0, ok
        jal     puts
        nop
        li      $t0, FINISH_PASS
        TO_LE($t0)
        li      $t1, TEST_BASE
        sw      $t0, 0($t1)
4:      b       4b
        nop

fail:   la      $a0, failed
        jal     puts
        nop
        sll     $t0, $s7, 16
        ori     $t0, $t0, FINISH_FAIL
        TO_LE($t0)
        li      $t1, TEST_BASE
        sw      $t0, 0($t1)
3:      b       3b
        nop

user_code:
        li      $t0, 0x80002000
        lw      $t1, 0($t0)             /* AdEL: kernel address */
        syscall
        break
        b       user_code
        nop

puts:   li      $t1, UART_BASE
1:      lbu     $t0, 0($a0)
        beqz    $t0, 2f
        addiu   $a0, $a0, 1
        b       1b
        sb      $t0, 0($t1)
2:      jr      $ra
        nop

/* The exception vectors: EBase must be 4 KiB aligned; the general
   exception vector is at +0x180. */
        .text
        .align  12
vectors:
        .space  0x180
        mfc0    $k0, C0_CAUSE
        sw      $k0, seen_cause
        mfc0    $k1, C0_EPC
        sw      $k1, seen_epc
        mfc0    $k1, C0_BADVADDR
        sw      $k1, seen_bad
        lw      $k1, seen_count
        addiu   $k1, $k1, 1
        sw      $k1, seen_count
        ext     $k1, $k0, 2, 5
        beqz    $k1, irq
        nop
        /* A BREAK from user mode ends the user-mode check (15): back to
           kernel mode, at back_in_kernel. */
        ext     $k1, $k0, 2, 5
        xori    $k1, $k1, 9             /* ExcCode 9: BREAK */
        bnez    $k1, 2f
        mfc0    $k1, C0_STATUS
        andi    $k1, $k1, 0x10          /* KSU = user (unchanged by the exception) */
        beqz    $k1, 2f
        nop
        mtc0    $zero, C0_STATUS
        ehb
        la      $k1, back_in_kernel
        jr      $k1
        nop
2:      /* An exception: resume after the instruction, or after the branch
           and its slot. */
        mfc0    $k1, C0_EPC
        bgez    $k0, 1f                 /* Cause.BD clear: +4 */
        addiu   $k1, $k1, 4
        addiu   $k1, $k1, 4             /* in a delay slot: +8 */
1:      mtc0    $k1, C0_EPC
        ehb
        eret
irq:    /* Clear the sources: software interrupts, the timer compare. */
        mtc0    $zero, C0_CAUSE
        li      $k0, CLINT_BASE + 0x4000
        li      $k1, -1
        sw      $k1, 4($k0)
        sw      $k1, 0($k0)
        eret

        .section .rodata
ok:     .asciz  "exc OK\n"
failed: .asciz  "FAIL\n"
        .data
        .align  2
seen_cause:     .word 0
seen_epc:       .word 0
seen_bad:       .word 0
seen_count:     .word 0
        .align  3
onehalf:        .double 1.5
        .bss
        .align  4
        .space  4096
stack_top:
