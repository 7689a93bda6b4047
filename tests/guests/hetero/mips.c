/*
 * Heterogeneous demo, MIPS side (cluster `dsp` of machines/hetero.yaml: a
 * big-endian MIPS32r2, held in reset until RISC-V releases it). See
 * hetero.h.
 *
 * Sleeps in WAIT with Status.IE = 0 and IM2 set (mbox1 drives IP2: a
 * pending interrupt wakes WAIT without taking an exception), reads the
 * Cortex-M's little-endian checksum from shared SRAM, stores it back as a
 * native big-endian word (answer_item) and sends the index to RISC-V.
 * The mailboxes' registers are little endian: values are byte-swapped.
 */
#include <stdint.h>
#include "hetero.h"

#define KSEG1       0xa0000000u
#define UART        (KSEG1 + 0x1f000000u)       /* NS16550A */
#define MBOX1       (KSEG1 + 0x1f010000u)       /* A = mcu, B = dsp (us) */
#define MBOX2       (KSEG1 + 0x1f011000u)       /* A = dsp (us), B = app */
#define SHARED      (KSEG1 + 0x1e000000u)

__asm__(
    ".section .text.start, \"ax\"\n"
    ".globl _start\n"
    ".set noreorder\n"
    "_start:\n"
    "   la    $sp, _stack_top\n"
    "   li    $t0, 0x400\n"                 /* Status: IM2, IE = BEV = ERL = 0 */
    "   mtc0  $t0, $12\n"
    "   ehb\n"
    "   jal   main\n"
    "   nop\n"
    "1: b     1b\n"
    "   nop\n"
    ".set reorder\n"
    ".text\n");

static inline uint32_t le(uint32_t v)
{
    return __builtin_bswap32(v);
}

static void putc_(char c)
{
    volatile uint8_t *u = (volatile uint8_t *)UART;
    while (!(u[5] & 0x20)) {
    }
    u[0] = (uint8_t)c;
}

/* The MIPS's job: answer checksum `sum` of item `i` as a big-endian word. */
void __attribute__((noinline)) answer_item(unsigned int i, uint32_t sum)
{
    volatile uint8_t *sh = (volatile uint8_t *)SHARED;
    *(volatile uint32_t *)(sh + SH_ANSWERS + 4 * i) = sum;     /* native: big endian */
    puts_("mips: item ");
    put_dec(i);
    puts_(" checksum 0x");
    put_hex(sum, 8);
    puts_(" answered as bytes");
    for (int k = 0; k < 4; k++) {
        putc_(' ');
        put_hex(sh[SH_ANSWERS + 4 * i + k], 2);
    }
    puts_("\n");
}

int main(void)
{
    puts_("mips: up (mips32r2, big endian), waiting for checksums\n");
    REG32(MBOX1 + MB_IRQ_EN) = le(1);
    for (;;) {
        __asm__ volatile("wait");
        while (le(REG32(MBOX1 + MB_STATUS)) & MB_NOT_EMPTY) {
            unsigned int i = le(REG32(MBOX1 + MB_RECV));
            if (i >= NITEMS)
                continue;
            volatile uint8_t *c = (volatile uint8_t *)(SHARED + SH_CHECKSUMS + 4 * i);
            uint32_t sum = (uint32_t)c[3] << 24 | (uint32_t)c[2] << 16 | (uint32_t)c[1] << 8 | c[0];
            answer_item(i, sum);
            __asm__ volatile("sync" ::: "memory");
            REG32(MBOX2 + MB_SEND) = le(i);
        }
    }
}
