/*
 * The smallest Cortex-M firmware: a vector table with the initial stack
 * pointer and the reset handler, which prints a greeting on UART0 and
 * exits through semihosting.
 */
#include "armtest.h"

        .section .vectors, "a"
        .word   _stack_top
        .word   reset

        .text
        .thumb_func
        .global reset
reset:
        ldr     r0, =msg
        bl      puts
        movs    r0, #0
        b       exit

        GUEST_ROUTINES

        .section .rodata
msg:    .asciz  "Hello from hemu (cortex-m)\n"
