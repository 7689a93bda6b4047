/*
 * Atomics across host threads, RISC-V side (cluster `app` of
 * machines/hetero.yaml: RV64, two harts, M mode from reset). Layout of the
 * shared words: atomics.h. hetero.h (formatting, system controller) is
 * tests/guests/hetero/hetero.h, as are the linker scripts: `cargo xtask
 * guests hetero` copies them next to these sources to build.
 *
 * Every vCPU of the machine hammers two counters in shared SRAM with its
 * architecture's atomic primitive, all at once: counter LE (a
 * little-endian word) takes N_INCR increments each from hart 0
 * (amoadd.w), hart 1 (an lr.w/sc.w loop) and the Cortex-M (ldrex/strex);
 * counter BE (a big-endian word) takes N_INCR each from the MIPS (ll/sc)
 * and hart 0 (lr.w/sc.w on the byte-swapped word: two ISAs of different
 * endianness contending for one word). Hart 0 releases the other
 * clusters, waits until every worker is ready, says go, does its share,
 * waits until everyone is done and checks the totals: exact, it powers
 * off with status 0. With `parallel=on` each cluster runs in its own host
 * thread, so the totals are exact only when these primitives are
 * indivisible across threads (a load then a store loses updates).
 */
#include <stdint.h>
#include "hetero.h"
#include "atomics.h"

#define UART        0x10000000ul        /* NS16550A */
#define SYSCTL      0x10010000ul
#define SHARED      0x08000000ul

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

static void putc_(char c)
{
    volatile uint8_t *u = (volatile uint8_t *)UART;
    while (!(u[5] & 0x20)) {            /* LSR.THRE */
    }
    u[0] = (uint8_t)c;
}

static volatile uint32_t *sh32(unsigned int off)
{
    return (volatile uint32_t *)(SHARED + off);
}

/* Byte swap (__builtin_bswap32 would call libgcc without Zbb). */
static uint32_t bswap(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24;
}

/* Poll `off` until it is nonzero; 0 when SPIN_MAX polls were not enough. */
static int wait_set(unsigned int off)
{
    for (uint32_t i = 0; i < SPIN_MAX; i++)
        if (*sh32(off))
            return 1;
    return 0;
}

static inline void amoadd_inc(volatile uint32_t *p)
{
    __asm__ volatile("amoadd.w zero, %1, (%0)" : : "r"(p), "r"(1) : "memory");
}

/* counter += 1 with lr.w/sc.w; returns the failed sc.w count. */
static inline uint32_t lrsc_inc(volatile uint32_t *p)
{
    uint32_t v, fail, retries = 0;
    __asm__ volatile(
        "1: lr.w   %0, (%3)\n"
        "   addiw  %0, %0, 1\n"
        "   sc.w   %1, %0, (%3)\n"
        "   beqz   %1, 2f\n"
        "   addiw  %2, %2, 1\n"
        "   j      1b\n"
        "2:\n"
        : "=&r"(v), "=&r"(fail), "+r"(retries)
        : "r"(p)
        : "memory");
    return retries;
}

/* The big-endian counter += 1 with lr.w/sc.w: load-reserve, byte-swap,
 * add, byte-swap back, store-conditional (no Zbb: the swap is shifts and
 * masks; longer than the ISA's 16-instruction constrained loop, which
 * only matters for forward progress on real hardware). Returns the failed
 * sc.w count. */
static inline uint32_t lrsc_inc_swapped(volatile uint32_t *p)
{
    uint32_t x, y, t, retries = 0;
    __asm__ volatile(
        "1: lr.w   %0, (%4)\n"
        "   srliw  %1, %0, 24\n"        /* y = bswap(x) */
        "   srliw  %2, %0, 8\n"
        "   and    %2, %2, %5\n"
        "   or     %1, %1, %2\n"
        "   slliw  %2, %0, 8\n"
        "   and    %2, %2, %6\n"
        "   or     %1, %1, %2\n"
        "   slliw  %2, %0, 24\n"
        "   or     %1, %1, %2\n"
        "   addiw  %1, %1, 1\n"         /* y += 1 */
        "   srliw  %0, %1, 24\n"        /* x = bswap(y) */
        "   srliw  %2, %1, 8\n"
        "   and    %2, %2, %5\n"
        "   or     %0, %0, %2\n"
        "   slliw  %2, %1, 8\n"
        "   and    %2, %2, %6\n"
        "   or     %0, %0, %2\n"
        "   slliw  %2, %1, 24\n"
        "   or     %0, %0, %2\n"
        "   sc.w   %2, %0, (%4)\n"
        "   beqz   %2, 2f\n"
        "   addiw  %3, %3, 1\n"
        "   j      1b\n"
        "2:\n"
        : "=&r"(x), "=&r"(y), "=&r"(t), "+r"(retries)
        : "r"(p), "r"(0xff00u), "r"(0xff0000u)
        : "memory");
    return retries;
}

/* Hart 1: a worker like the other clusters. */
static void __attribute__((noreturn)) hart1(void)
{
    volatile uint32_t *le = sh32(AT_LE);
    uint32_t retries = 0;
    *sh32(AT_READY + 4 * W_HART1) = 1;
    if (wait_set(AT_GO))
        for (uint32_t i = 0; i < N_INCR; i++)
            retries += lrsc_inc(le);
    *sh32(AT_RETRIES + 4 * W_HART1) = retries;
    __asm__ volatile("fence rw, rw" ::: "memory");
    *sh32(AT_DONE + 4 * W_HART1) = 1;
    for (;;)
        __asm__ volatile("wfi");
}

static void __attribute__((noreturn)) power_off(uint32_t status)
{
    REG32(SYSCTL + SYS_POWEROFF) = status;
    for (;;) {
    }
}

static const char *const worker_name[NWORKERS] = { "hart 1", "cortex-m", "mips" };

static void __attribute__((noreturn)) hart0(void)
{
    puts_("riscv: hart 0 up, counters at 0x");
    put_hex((unsigned int)(SHARED + AT_LE), 8);
    puts_(" (le) and 0x");
    put_hex((unsigned int)(SHARED + AT_BE), 8);
    puts_(" (be)\n");
    /* The counters start at 0 (the workers touch them only after go). */
    *sh32(AT_LE) = 0;
    *sh32(AT_BE) = 0;
    __asm__ volatile("fence rw, rw" ::: "memory");
    REG32(SYSCTL + SYS_RELEASE) = SYS_LINE_MCU | SYS_LINE_DSP;
    for (int w = 0; w < NWORKERS; w++) {
        if (!wait_set(AT_READY + 4 * w)) {
            puts_("atomics: timeout, ");
            puts_(worker_name[w]);
            puts_(" never got ready\n");
            power_off(2);
        }
    }
    puts_("riscv: every worker ready, go\n");
    __asm__ volatile("fence rw, rw" ::: "memory");
    *sh32(AT_GO) = 1;

    volatile uint32_t *le = sh32(AT_LE), *be = sh32(AT_BE);
    uint32_t retries = 0;
    for (uint32_t i = 0; i < N_INCR; i++) {
        amoadd_inc(le);
        retries += lrsc_inc_swapped(be);
    }

    for (int w = 0; w < NWORKERS; w++) {
        if (!wait_set(AT_DONE + 4 * w)) {
            puts_("atomics: timeout, ");
            puts_(worker_name[w]);
            puts_(" never finished\n");
            power_off(3);
        }
    }
    __asm__ volatile("fence rw, rw" ::: "memory");
    uint32_t le_total = *le, be_total = bswap(*be);
    int ok = le_total == LE_EXPECTED && be_total == BE_EXPECTED;
    /* Failed store-conditionals: how often the primitives really met
     * (varies run to run in parallel mode). */
    puts_("atomics: sc retries hart 0 ");
    put_dec(retries);
    puts_(", hart 1 ");
    put_dec(*sh32(AT_RETRIES + 4 * W_HART1));
    puts_(", cortex-m ");
    put_dec(*sh32(AT_RETRIES + 4 * W_MCU));
    puts_(", mips ");
    put_dec(bswap(*sh32(AT_RETRIES + 4 * W_DSP)));
    puts_("\natomics: le ");
    put_dec(le_total);
    puts_("/");
    put_dec(LE_EXPECTED);
    puts_(" be ");
    put_dec(be_total);
    puts_("/");
    put_dec(BE_EXPECTED);
    puts_(ok ? " ok\n" : " LOST UPDATES\n");
    power_off(ok ? 0 : 1);
}

void __attribute__((noreturn, used)) hart_main(unsigned long hart)
{
    if (hart == 0)
        hart0();
    hart1();
}
