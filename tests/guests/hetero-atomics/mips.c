/*
 * Atomics across host threads, MIPS side (cluster `dsp` of
 * machines/hetero.yaml, big endian; see riscv.c and atomics.h): N_INCR
 * increments of counter BE (a native big-endian word) with an ll/sc loop,
 * once RISC-V says go. Shared SRAM through kseg0 (LL/SC want cacheable
 * memory on real hardware), the UART through kseg1.
 */
#include <stdint.h>
#include "hetero.h"
#include "atomics.h"

#define UART        (0xa0000000u + 0x1f000000u)     /* NS16550A, kseg1 */
#define SHARED      (0x80000000u + 0x1e000000u)     /* kseg0 */

__asm__(
    ".section .text.start, \"ax\"\n"
    ".globl _start\n"
    ".set noreorder\n"
    "_start:\n"
    "   la    $sp, _stack_top\n"
    "   mtc0  $zero, $12\n"                 /* Status: interrupts off, BEV = ERL = 0 */
    "   ehb\n"
    "   jal   main\n"
    "   nop\n"
    "1: b     1b\n"
    "   nop\n"
    ".set reorder\n"
    ".text\n");

static void putc_(char c)
{
    volatile uint8_t *u = (volatile uint8_t *)UART;
    while (!(u[5] & 0x20)) {
    }
    u[0] = (uint8_t)c;
}

static volatile uint32_t *sh32(unsigned int off)
{
    return (volatile uint32_t *)(SHARED + off);
}

/* counter += 1 with ll/sc; returns the failed sc count. */
static inline uint32_t llsc_inc(volatile uint32_t *p)
{
    uint32_t v, retries = 0;
    __asm__ volatile(
        ".set push\n"
        ".set noreorder\n"
        "1: ll     %0, 0(%2)\n"
        "   addiu  %0, %0, 1\n"
        "   sc     %0, 0(%2)\n"
        "   bnez   %0, 2f\n"
        "   nop\n"
        "   b      1b\n"
        "   addiu  %1, %1, 1\n"             /* delay slot: count the retry */
        "2:\n"
        ".set pop\n"
        : "=&r"(v), "+r"(retries)
        : "r"(p)
        : "memory");
    return retries;
}

int main(void)
{
    *sh32(AT_READY + 4 * W_DSP) = 1;
    uint32_t i = 0;
    while (!*sh32(AT_GO) && ++i < SPIN_MAX) {
    }
    __asm__ volatile("sync" ::: "memory");
    if (i == SPIN_MAX) {
        puts_("mips: no go\n");
    } else {
        uint32_t retries = 0;
        for (i = 0; i < N_INCR; i++)
            retries += llsc_inc(sh32(AT_BE));
        /* Print before saying done: RISC-V powers off once all are. */
        puts_("mips: ");
        put_dec(N_INCR);
        puts_(" ll/sc increments done\n");
        *sh32(AT_RETRIES + 4 * W_DSP) = retries;   /* big endian */
        __asm__ volatile("sync" ::: "memory");
        *sh32(AT_DONE + 4 * W_DSP) = 1;
    }
    for (;;)
        __asm__ volatile("wait");      /* interrupts masked: sleeps for good */
}
