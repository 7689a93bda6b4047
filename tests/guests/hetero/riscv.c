/*
 * Heterogeneous demo, RISC-V side (cluster `app` of machines/hetero.yaml:
 * RV64, two harts, M mode from reset). See hetero.h for the protocol.
 *
 * Hart 1 builds an Sv39 page table, drops to S mode and writes the work
 * items through a virtual alias of shared SRAM (gigapage VA 0x4000_0000 ->
 * PA 0). Hart 0 waits for them, releases the other clusters, sends the
 * items (send_work) and checks the MIPS answers as they arrive (PLIC
 * interrupt, taken by polling the claim register after WFI).
 */
#include <stdint.h>
#include "hetero.h"

#define UART        0x10000000ul        /* NS16550A */
#define PLIC        0x0c000000ul
#define SYSCTL      0x10010000ul
#define MBOX0       0x10020000ul        /* A = app, B = mcu */
#define MBOX2       0x10030000ul        /* A = dsp, B = app */
#define SHARED      0x08000000ul
#define ALIAS_VA    0x40000000ul        /* Sv39 gigapage onto PA 0 */

#define PLIC_SRC_MBOX2  2               /* mbox2 output 0 */
#define PLIC_CTX        0               /* hart 0, M mode */

#define MIE_MEIE    (1ul << 11)

__asm__(
    ".section .text.init, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "   csrr  a0, mhartid\n"
    "   la    sp, _stack_top\n"
    "   slli  t0, a0, 13\n"             /* 8 KiB of stack per hart */
    "   sub   sp, sp, t0\n"
    "   call  hart_main\n"
    "1: wfi\n"
    "   j     1b\n"
    ".text\n");

/* Hart 1's Sv39 root table; only hart 1 touches it (not in .bss, which
 * hart 0 clears). */
static uint64_t root_pt[512] __attribute__((aligned(4096), section(".pagetable")));

static void putc_(char c)
{
    volatile uint8_t *u = (volatile uint8_t *)UART;
    while (!(u[5] & 0x20)) {            /* LSR.THRE */
    }
    u[0] = (uint8_t)c;
}

/* The work items: deterministic bytes, a different length each. */
static void make_item(volatile uint8_t *item, unsigned int i)
{
    unsigned int len = 13 + 11 * i;
    uint32_t x = 0x9e3779b9u * (i + 1);
    for (unsigned int k = 0; k < len; k++) {
        x = x * 1664525u + 1013904223u;
        item[4 + k] = (uint8_t)(x >> 24);
    }
    *(volatile uint32_t *)item = len;
}

/* S mode, translation on: write the items through the alias. */
static void __attribute__((noreturn, used)) hart1_smode(void)
{
    volatile uint8_t *sh = (volatile uint8_t *)(ALIAS_VA + SHARED);
    for (unsigned int i = 0; i < NITEMS; i++)
        make_item(sh + SH_ITEMS + i * ITEM_BYTES, i);
    puts_("riscv: hart 1 in S mode, Sv39 on, wrote ");
    put_dec(NITEMS);
    puts_(" work items through VA 0x");
    put_hex((unsigned int)(ALIAS_VA + SHARED), 8);
    puts_("\n");
    __asm__ volatile("fence rw, rw" ::: "memory");
    *(volatile uint32_t *)(sh + SH_READY) = READY_MAGIC;
    for (;;)
        __asm__ volatile("wfi");
}

static void __attribute__((noreturn)) hart1(void)
{
    const uint64_t rwx = 0xcf;          /* V R W X A D */
    for (int i = 0; i < 512; i++)
        root_pt[i] = 0;
    root_pt[0] = (0x0ul >> 12) << 10 | rwx;            /* identity: devices, SRAM */
    root_pt[1] = (0x0ul >> 12) << 10 | (rwx & ~8ul);   /* alias of PA 0, no X */
    root_pt[2] = (0x80000000ul >> 12) << 10 | rwx;     /* identity: code, data */
    uint64_t satp = 8ul << 60 | (uint64_t)root_pt >> 12;
    uint64_t mpp_s = 1ul << 11;
    __asm__ volatile(
        "li    t0, -1\n"
        "csrw  pmpaddr0, t0\n"          /* S may access everything */
        "li    t0, 0x1f\n"
        "csrw  pmpcfg0, t0\n"
        "csrw  satp, %0\n"
        "sfence.vma\n"
        "li    t0, 3 << 11\n"
        "csrc  mstatus, t0\n"
        "csrs  mstatus, %1\n"
        "csrw  mepc, %2\n"
        "mret\n"
        :
        : "r"(satp), "r"(mpp_s), "r"(hart1_smode)
        : "t0", "memory");
    __builtin_unreachable();
}

/* Hand work item `i` to the Cortex-M. A breakpoint here stops once per item. */
void __attribute__((noinline)) send_work(unsigned int i)
{
    volatile uint8_t *item = (volatile uint8_t *)(SHARED + SH_ITEMS + i * ITEM_BYTES);
    puts_("riscv: send item ");
    put_dec(i);
    puts_(" (");
    put_dec(*(volatile uint32_t *)item);
    puts_(" bytes)\n");
    __asm__ volatile("fence rw, rw" ::: "memory");
    REG32(MBOX0 + MB_SEND) = i;
}

/* Check one answer from the MIPS: 1 when it matches our own checksum. */
static int check_answer(unsigned int i)
{
    volatile uint8_t *sh = (volatile uint8_t *)SHARED;
    volatile uint8_t *item = sh + SH_ITEMS + i * ITEM_BYTES;
    volatile uint8_t *a = sh + SH_ANSWERS + 4 * i;
    uint32_t be = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    uint32_t want = adler32(item + 4, *(volatile uint32_t *)item);
    puts_("riscv: answer for item ");
    put_dec(i);
    puts_(": bytes ");
    for (int k = 0; k < 4; k++) {
        put_hex(a[k], 2);
        putc_(' ');
    }
    puts_("= 0x");
    put_hex(be, 8);
    puts_(be == want ? " (big endian), matches\n" : " MISMATCH\n");
    return be == want;
}

static void __attribute__((noreturn)) hart0(void)
{
    extern uint8_t __bss_start[], __bss_end[];
    for (uint8_t *p = __bss_start; p < __bss_end; p++)
        *p = 0;
    puts_("riscv: hart 0 up (rv64, M mode)\n");
    volatile uint32_t *ready = (volatile uint32_t *)(SHARED + SH_READY);
    while (*ready != READY_MAGIC) {
    }
    __asm__ volatile("fence rw, rw" ::: "memory");

    /* Answers arrive on mbox2 channel 0, PLIC source 2. */
    REG32(PLIC + 4 * PLIC_SRC_MBOX2) = 1;
    REG32(PLIC + 0x2000 + 0x80 * PLIC_CTX) = 1u << PLIC_SRC_MBOX2;
    REG32(PLIC + 0x200000 + 0x1000 * PLIC_CTX) = 0;
    REG32(MBOX2 + MB_IRQ_EN) = 1;
    __asm__ volatile("csrs mie, %0" ::"r"(MIE_MEIE));   /* mstatus.MIE stays 0 */

    REG32(SYSCTL + SYS_RELEASE) = SYS_LINE_MCU | SYS_LINE_DSP;
    puts_("riscv: released cortex-m and mips (sysctl run = 0x");
    put_hex(REG32(SYSCTL + SYS_RUN), 1);
    puts_(")\n");

    for (unsigned int i = 0; i < NITEMS; i++)
        send_work(i);

    unsigned int got = 0, good = 0;
    while (got < NITEMS) {
        __asm__ volatile("wfi");
        uint32_t src = REG32(PLIC + 0x200004 + 0x1000 * PLIC_CTX);   /* claim */
        while (REG32(MBOX2 + MB_STATUS) & MB_NOT_EMPTY) {
            unsigned int i = REG32(MBOX2 + MB_RECV);
            good += i < NITEMS && check_answer(i);
            got++;
        }
        if (src)
            REG32(PLIC + 0x200004 + 0x1000 * PLIC_CTX) = src;       /* complete */
    }
    puts_("riscv: ");
    put_dec(good);
    puts_("/");
    put_dec(NITEMS);
    puts_(" answers verified, powering off\n");
    REG32(SYSCTL + SYS_POWEROFF) = good == NITEMS ? 0 : 1;
    for (;;) {
    }
}

void __attribute__((noreturn, used)) hart_main(unsigned long hart)
{
    if (hart == 0)
        hart0();
    hart1();
}
