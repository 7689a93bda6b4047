/* hello: print a line on the UART, then stop the machine through the test
   finisher with "pass". */
#include "common.h"
        .set    noreorder
        .section .text.start, "ax"
        .globl  _start
_start:
        la      $sp, stack_top
        la      $a0, msg
        jal     puts
        nop
        li      $t0, FINISH_PASS
        TO_LE($t0)
        li      $t1, TEST_BASE
        sw      $t0, 0($t1)
1:      b       1b
        nop

/* puts(a0): write the NUL-terminated string at a0 to the UART. */
        .globl  puts
puts:   li      $t1, UART_BASE
1:      lbu     $t0, 0($a0)
        beqz    $t0, 2f
        addiu   $a0, $a0, 1
        b       1b
        sb      $t0, 0($t1)
2:      jr      $ra
        nop

        .section .rodata
msg:    .asciz  "Hello from hemu (mips)\n"
        .bss
        .align  4
        .space  4096
stack_top:
