/*
 * A fault the core cannot take: the HardFault handler itself executes an
 * undefined instruction. ARMv7-M locks up (B1.5.15): hemu stops the vCPU
 * with a "lockup" report (exit status 3). Prints "lockup: in HardFault\n"
 * first.
 */
#include "armtest.h"

        .section .vectors, "a"
        .word   _stack_top
        .word   reset
        .word   0
        .word   hardfault_handler

        .text
        .thumb_func
        .global reset
reset:
        udf     #1
        movs    r0, #1              @ not reached
        b       exit

        .thumb_func
hardfault_handler:
        ldr     r0, =msg
        bl      puts
        udf     #2

        GUEST_ROUTINES

        .section .rodata
msg:    .asciz  "lockup: in HardFault\n"
