/*
 * Prints "before\n", then loads a word from physical address 0x0, which is
 * unmapped on QEMU `-M virt` (`info mtree`: the reset ROM starts at 0x1000;
 * 0x0-0xfff is a hole whatever -m is, unlike the space above RAM or
 * 0x4000_0000, which is the PCIe MMIO window and does not fault). No trap
 * handler is installed, so an emulator should report a load access fault at
 * that pc and stop. (Under QEMU, mtvec is 0 at reset: the trap jumps to
 * address 0, which raises instruction access faults forever, so QEMU hangs.)
 */
#include "common.h"

#define UNMAPPED_ADDR 0x0

        .section .text.init
        .globl _start
_start:
        lla     sp, _stack_top
        lla     a0, msg
        jal     ra, puts
        li      t0, UNMAPPED_ADDR
        .globl  faulting_load
faulting_load:
        lw      t1, 0(t0)
        li      a0, 1
        j       exit

GUEST_ROUTINES

        .section .rodata
msg:    .asciz  "before\n"
