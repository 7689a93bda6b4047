/*
 * A small Cortex-M firmware in C, the way real ones are built: a vector
 * table, a reset handler that initialises .data and .bss, interrupt-driven
 * UART output (a ring buffer drained by the UART's TX interrupt through
 * the NVIC), a 1 ms SysTick, an interrupt pended in software (STIR) from
 * the SysTick handler, sleeping in WFI, and a HardFault handler that
 * reports the fault status registers.
 *
 * It prints five tick lines and a summary over UART0, then executes an
 * undefined instruction: with UsageFault disabled that escalates to
 * HardFault, whose handler prints HFSR and CFSR and exits (semihosting)
 * with status 0 when they are as the architecture says, else 1.
 *
 * Built for two boards: the default is `-M lm3s6965evb` (a PL011 at
 * 0x4000_C000, IRQ 5, 12 MHz core clock); with -DMPS2, `-M mps2-an385`
 * (a CMSDK APB UART at 0x4000_4000, TX IRQ 1, 25 MHz).
 */
#include <stdint.h>

#define REG(a) (*(volatile uint32_t *)(a))

#ifdef MPS2
#define UART_BASE   0x40004000u
#define UART_IRQ    1u
#define CLOCK_HZ    25000000u
#define UART_DATA   REG(UART_BASE + 0x00)
#define UART_STATE  REG(UART_BASE + 0x04)
#define UART_CTRL   REG(UART_BASE + 0x08)
#define UART_INT    REG(UART_BASE + 0x0c)
#define UART_BAUD   REG(UART_BASE + 0x10)
#else
#define UART_BASE   0x4000c000u
#define UART_IRQ    5u
#define CLOCK_HZ    12000000u
#define UART_DR     REG(UART_BASE + 0x00)
#define UART_FR     REG(UART_BASE + 0x18)
#define UART_IMSC   REG(UART_BASE + 0x38)
#define UART_MIS    REG(UART_BASE + 0x40)
#define UART_ICR    REG(UART_BASE + 0x44)
#define PL011_TX    0x20u
#define PL011_TXFF  0x20u
#endif

#define SYST_CSR    REG(0xe000e010u)
#define SYST_RVR    REG(0xe000e014u)
#define SYST_CVR    REG(0xe000e018u)
#define NVIC_ISER0  REG(0xe000e100u)
#define NVIC_IPR(n) (*(volatile uint8_t *)(0xe000e400u + (n)))
#define NVIC_STIR   REG(0xe000ef00u)
#define SCB_SHPR3   REG(0xe000ed20u)
#define SCB_CFSR    REG(0xe000ed28u)
#define SCB_HFSR    REG(0xe000ed2cu)

/* The software interrupt pended from SysTick. */
#define SOFT_IRQ    10u

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[], _stack_top[];

void reset(void);
void hardfault_handler(void);
void systick_handler(void);
void uart_handler(void);
void soft_handler(void);
static void default_handler(void);

/* The vector table: initial SP, then exceptions 1-15, then IRQs 0-15. */
__attribute__((section(".vectors"), used))
static void (*const vectors[32])(void) = {
    (void (*)(void))_stack_top,
    reset,
    default_handler,      /* NMI */
    hardfault_handler,
    default_handler,      /* MemManage */
    default_handler,      /* BusFault */
    default_handler,      /* UsageFault */
    0, 0, 0, 0,
    default_handler,      /* SVCall */
    default_handler,      /* DebugMonitor */
    0,
    default_handler,      /* PendSV */
    systick_handler,
    [16 + UART_IRQ] = uart_handler,
    [16 + SOFT_IRQ] = soft_handler,
};

/* ---- semihosting */

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void __attribute__((noreturn)) sys_exit(int status)
{
    uint32_t block[2] = {0x20026, (uint32_t)status};
    semihost(0x20, block);
    for (;;) {
    }
}

/* ---- interrupt-driven UART output */

static char ring[256];
static volatile uint32_t head, tail;

static void uart_start(void)
{
#ifdef MPS2
    UART_BAUD = 16;
    UART_CTRL = 1u | 4u; /* TX enable, TX interrupt enable */
#else
    UART_IMSC = PL011_TX;
#endif
}

/* Send the next waiting byte, or stop the TX interrupt when none is left. */
static void uart_push(void)
{
    if (head == tail) {
#ifdef MPS2
        UART_INT = 1u;
#else
        UART_ICR = PL011_TX;
#endif
        return;
    }
    char c = ring[tail % sizeof ring];
    tail = tail + 1;
#ifdef MPS2
    UART_INT = 1u;
    UART_DATA = (uint8_t)c;
#else
    while (UART_FR & PL011_TXFF) {
    }
    UART_DR = (uint8_t)c;
#endif
}

void uart_handler(void)
{
    uart_push();
}

static void put(char c)
{
    while (head - tail >= sizeof ring) {
        __asm__ volatile("wfi");
    }
    __asm__ volatile("cpsid i");
    int idle = head == tail;
    ring[head % sizeof ring] = c;
    head = head + 1;
    if (idle) {
        uart_push(); /* the TX interrupt takes it from here */
    }
    __asm__ volatile("cpsie i");
}

static void puts_(const char *s)
{
    while (*s) {
        put(*s++);
    }
}

static void putnum(uint32_t v, unsigned base)
{
    char buf[12];
    int i = 0;
    do {
        unsigned d = v % base;
        buf[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (i) {
        put(buf[--i]);
    }
}

static void flush(void)
{
    while (head != tail) {
        __asm__ volatile("wfi");
    }
}

/* ---- SysTick and the software interrupt */

static volatile uint32_t ticks, soft_irqs;

void systick_handler(void)
{
    ticks = ticks + 1;
    if (ticks % 10 == 0) {
        NVIC_STIR = SOFT_IRQ;
    }
}

void soft_handler(void)
{
    soft_irqs = soft_irqs + 1;
}

/* ---- faults */

void hardfault_handler(void)
{
    uint32_t hfsr = SCB_HFSR, cfsr = SCB_CFSR;
    puts_("HardFault: HFSR=0x");
    putnum(hfsr, 16);
    puts_(" CFSR=0x");
    putnum(cfsr, 16);
    put('\n');
    flush();
    /* UDF with UsageFault disabled: forced HardFault, UNDEFINSTR. */
    sys_exit(hfsr == 0x40000000u && cfsr == 0x00010000u ? 0 : 1);
}

static void default_handler(void)
{
    sys_exit(2);
}

int main(void)
{
    uart_start();
    NVIC_IPR(UART_IRQ) = 0x80;
    NVIC_IPR(SOFT_IRQ) = 0xc0;
    NVIC_ISER0 = (1u << UART_IRQ) | (1u << SOFT_IRQ);
    SCB_SHPR3 = 0x40u << 24; /* SysTick above the UART */
    SYST_RVR = CLOCK_HZ / 1000 - 1;
    SYST_CVR = 0;
    SYST_CSR = 7; /* core clock, interrupt, enable */

    puts_("firmware: hello from a Cortex-M\n");
    uint32_t last = 0;
    while (soft_irqs < 5) {
        __asm__ volatile("wfi");
        if (soft_irqs != last) {
            last = soft_irqs;
            puts_("firmware: tick ");
            putnum(ticks, 10);
            put('\n');
        }
    }
    SYST_CSR = 0;
    puts_("firmware: ");
    putnum(soft_irqs, 10);
    puts_(" software interrupts, ");
    putnum(ticks >= 50 ? 50 : ticks, 10);
    puts_(" ticks\n");
    flush();
    __asm__ volatile("udf #0");
    return 0;
}

void reset(void)
{
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end) {
        *dst++ = *src++;
    }
    for (dst = __bss_start; dst < __bss_end; dst++) {
        *dst = 0;
    }
    main();
    sys_exit(3);
}
