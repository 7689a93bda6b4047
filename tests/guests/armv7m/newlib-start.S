/*
 * Vector table and reset handler of the newlib guest: copy .data from
 * flash to SRAM, then enter newlib's start file (`_start` of
 * rdimon-crt0), which takes the stack from SYS_HEAPINFO, clears .bss,
 * opens the standard streams, calls main and exits through semihosting.
 * Any other exception stops with status 99. Built with -DFPU (Cortex-M4F,
 * hard-float ABI), it first enables the FPU (CPACR: CP10 and CP11 full
 * access).
 */
        .syntax unified
        .thumb

        .section .vectors, "a"
        .word   0x20010000
        .word   reset
        .rept   14
        .word   other
        .endr

        .text
        .thumb_func
        .global reset
reset:
        ldr     r0, =__data_load
        ldr     r1, =__data_start
        ldr     r2, =__data_end
1:      cmp     r1, r2
        bhs     2f
        ldr     r3, [r0], #4
        str     r3, [r1], #4
        b       1b
2:
#ifdef FPU
        ldr     r0, =0xe000ed88
        ldr     r1, [r0]
        orr     r1, r1, #(0xf << 20)
        str     r1, [r0]
        dsb
        isb
#endif
        b       _start

        .thumb_func
other:
        ldr     r1, =other_block
        movs    r0, #0x20               /* SYS_EXIT_EXTENDED */
        bkpt    0xab
        b       .

        .section .rodata
        .align  2
other_block:
        .word   0x20026, 99
