/*
 * Heterogeneous demo, Cortex-M side (cluster `mcu` of machines/hetero.yaml:
 * a Cortex-M3, held in reset until RISC-V releases it). See hetero.h.
 *
 * Sleeps in WFI; mbox0's interrupt (NVIC IRQ 0) brings the index of a work
 * item, which checksum_item checksums (a breakpoint there stops once per
 * item); the checksum goes to shared SRAM and the index on to the MIPS.
 */
#include <stdint.h>
#include "hetero.h"

#define UART        0x40004000u         /* CMSDK APB UART */
#define MBOX0       0x40010000u         /* A = app, B = mcu (us) */
#define MBOX1       0x40011000u         /* A = mcu (us), B = dsp */
#define SHARED      0x20100000u         /* alias of the shared SRAM */
#define NVIC_ISER0  REG32(0xe000e100u)

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[], _stack_top[];

void reset(void);
void mbox0_handler(void);
static void default_handler(void);

__attribute__((section(".vectors"), used))
static void (*const vectors[16 + 2])(void) = {
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
    mbox0_handler,        /* IRQ 0: mbox0, a message for us */
    default_handler,      /* IRQ 1: mbox1's other direction (unused) */
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

static unsigned int handled;

/* The Cortex-M's job: checksum one work item. */
uint32_t __attribute__((noinline)) checksum_item(const volatile uint8_t *data, uint32_t len)
{
    return adler32(data, len);
}

void mbox0_handler(void)
{
    while (REG32(MBOX0 + MB_STATUS) & MB_NOT_EMPTY) {
        unsigned int i = REG32(MBOX0 + MB_RECV);
        if (i >= NITEMS)
            continue;
        volatile uint8_t *item = (volatile uint8_t *)(SHARED + SH_ITEMS + i * ITEM_BYTES);
        uint32_t len = *(volatile uint32_t *)item;
        if (len > ITEM_MAX)
            len = ITEM_MAX;
        uint32_t sum = checksum_item(item + 4, len);
        *(volatile uint32_t *)(SHARED + SH_CHECKSUMS + 4 * i) = sum;
        puts_("cortex-m: item ");
        put_dec(i);
        puts_(", ");
        put_dec(len);
        puts_(" bytes, adler32 0x");
        put_hex(sum, 8);
        puts_("\n");
        __asm__ volatile("dmb" ::: "memory");
        REG32(MBOX1 + MB_SEND) = i;
        handled++;
    }
}

void __attribute__((noreturn)) reset(void)
{
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    REG32(UART + 0x10) = 16;            /* BAUDDIV */
    REG32(UART + 0x08) = 1;             /* CTRL.TXEN */
    puts_("cortex-m: up (armv7m, Cortex-M3), waiting for work\n");
    REG32(MBOX0 + MB_IRQ_EN) = 1;
    NVIC_ISER0 = 1u << 0;
    for (;;)
        __asm__ volatile("wfi");
}
