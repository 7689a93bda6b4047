/*
 * Atomics across host threads, Cortex-M side (cluster `mcu` of
 * machines/hetero.yaml; see riscv.c and atomics.h): N_INCR increments of
 * counter LE with an ldrex/strex loop, once RISC-V says go.
 */
#include <stdint.h>
#include "hetero.h"
#include "atomics.h"

#define UART        0x40004000u         /* CMSDK APB UART */
#define SHARED      0x20100000u         /* alias of the shared SRAM */

extern uint32_t _stack_top[];

void reset(void);
static void default_handler(void);

__attribute__((section(".vectors"), used))
static void (*const vectors[16])(void) = {
    (void (*)(void))_stack_top,
    reset,
    default_handler,      /* NMI */
    default_handler,      /* HardFault */
    default_handler,      /* MemManage */
    default_handler,      /* BusFault */
    default_handler,      /* UsageFault */
    0, 0, 0, 0,
    default_handler,      /* SVCall */
    default_handler,      /* DebugMonitor */
    0,
    default_handler,      /* PendSV */
    default_handler,      /* SysTick */
};

static void putc_(char c)
{
    while (REG32(UART + 0x04) & 1u) {   /* STATE.TXFULL */
    }
    REG32(UART + 0x00) = (uint8_t)c;
}

static void default_handler(void)
{
    puts_("cortex-m: unexpected exception\n");
    for (;;) {
    }
}

static volatile uint32_t *sh32(unsigned int off)
{
    return (volatile uint32_t *)(SHARED + off);
}

/* counter += 1 with ldrex/strex; returns the failed strex count. */
static inline uint32_t ldrex_inc(volatile uint32_t *p)
{
    uint32_t v, fail, retries = 0;
    __asm__ volatile(
        "1: ldrex  %0, [%3]\n"
        "   adds   %0, %0, #1\n"
        "   strex  %1, %0, [%3]\n"
        "   cmp    %1, #0\n"
        "   beq    2f\n"
        "   adds   %2, %2, #1\n"
        "   b      1b\n"
        "2:\n"
        : "=&r"(v), "=&r"(fail), "+r"(retries)
        : "r"(p)
        : "cc", "memory");
    return retries;
}

void __attribute__((noreturn)) reset(void)
{
    REG32(UART + 0x10) = 16;            /* BAUDDIV */
    REG32(UART + 0x08) = 1;             /* CTRL.TXEN */
    *sh32(AT_READY + 4 * W_MCU) = 1;
    uint32_t i = 0;
    while (!*sh32(AT_GO) && ++i < SPIN_MAX) {
    }
    __asm__ volatile("dmb" ::: "memory");
    if (i == SPIN_MAX) {
        puts_("cortex-m: no go\n");
    } else {
        uint32_t retries = 0;
        for (i = 0; i < N_INCR; i++)
            retries += ldrex_inc(sh32(AT_LE));
        /* Print before saying done: RISC-V powers off once all are. */
        puts_("cortex-m: ");
        put_dec(N_INCR);
        puts_(" ldrex/strex increments done\n");
        *sh32(AT_RETRIES + 4 * W_MCU) = retries;
        __asm__ volatile("dmb" ::: "memory");
        *sh32(AT_DONE + 4 * W_MCU) = 1;
    }
    for (;;)
        __asm__ volatile("wfi");
}
