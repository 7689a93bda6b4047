/*
 * Prints "before\n", then executes the all-zero word, which is an illegal
 * instruction in every RISC-V encoding. No trap handler is installed, so an
 * emulator should report the illegal-instruction trap at that pc and stop.
 * (Under QEMU, mtvec is 0 at reset: the trap jumps to unmapped address 0,
 * which faults again forever, so QEMU hangs; run it with a timeout.)
 */
#include "common.h"

        .section .text.init
        .globl _start
_start:
        lla     sp, _stack_top
        lla     a0, msg
        jal     ra, puts
        .globl  illegal_insn
illegal_insn:
        .word   0
        li      a0, 1
        j       exit

GUEST_ROUTINES

        .section .rodata
msg:    .asciz  "before\n"
