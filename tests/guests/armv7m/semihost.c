/*
 * Semihosting calls beyond console output and exit, as newlib's
 * `--specs=rdimon.specs` uses them: handles for ":tt" and
 * ":semihosting-features", SYS_WRITE/READ/ISTTY/SEEK/FLEN/CLOSE, errno,
 * SYS_ISERROR, SYS_HEAPINFO, the tick counter and the command line.
 *
 * It prints the heap SYS_HEAPINFO gives (it depends on the board: the
 * largest writable RAM, less loaded images), writes one line through the
 * standard-output handle and one through the standard-error handle, checks
 * everything else itself and prints "semihost: all tests passed" or
 * "FAIL <n>", exiting with status 0 or n. Every check holds on QEMU 7.2
 * (`-semihosting`, standard input at its end, e.g. </dev/null) as on hemu.
 */
#include <stdint.h>

enum {
    SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05,
    SYS_READ = 0x06, SYS_ISERROR = 0x08, SYS_ISTTY = 0x09, SYS_SEEK = 0x0a,
    SYS_FLEN = 0x0c, SYS_ERRNO = 0x13, SYS_GET_CMDLINE = 0x15,
    SYS_HEAPINFO = 0x16, SYS_EXIT_EXTENDED = 0x20, SYS_ELAPSED = 0x30,
    SYS_TICKFREQ = 0x31,
};
#define EBADF 9
#define EACCES 13

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[], _stack_top[];
void reset(void);

__attribute__((section(".vectors"), used))
static void (*const vectors[2])(void) = {
    (void (*)(void))_stack_top,
    reset,
};

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void puts0(const char *s)
{
    semihost(SYS_WRITE0, s);
}

static void puthex(uint32_t v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++) {
        unsigned d = (v >> (28 - 4 * i)) & 15;
        b[2 + i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    b[10] = 0;
    puts0(b);
}

static void __attribute__((noreturn)) sys_exit(int status)
{
    uint32_t block[2] = {0x20026, (uint32_t)status};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

static int check_no;

static void check(int ok)
{
    check_no++;
    if (!ok) {
        puts0("FAIL ");
        char d[3] = {(char)('0' + check_no / 10), (char)('0' + check_no % 10), 0};
        puts0(d);
        puts0("\n");
        sys_exit(check_no);
    }
}

static int sh_open(const char *name, uint32_t len, uint32_t mode)
{
    uint32_t a[3] = {(uint32_t)name, mode, len};
    return semihost(SYS_OPEN, a);
}

static int sh_h(int op, int h)
{
    uint32_t a[1] = {(uint32_t)h};
    return semihost(op, a);
}

static int sh_rw(int op, int h, const void *buf, uint32_t len)
{
    uint32_t a[3] = {(uint32_t)h, (uint32_t)buf, len};
    return semihost(op, a);
}

static const char out_line[] = "semihost: stdout handle\n";
static const char err_line[] = "semihost: stderr handle\n";
static uint8_t buf[16];
static char cmdline[64];

static void run(void)
{
    /* The heap and the stack: base, limit, stack base, stack limit. */
    uint32_t info[4] = {1, 2, 3, 4};
    uint32_t *p = info;
    check(semihost(SYS_HEAPINFO, &p) == 0);
    check(info[1] == info[2] && info[0] == info[3] && info[0] < info[1]);
    puts0("semihost: heap ");
    puthex(info[0]);
    puts0("-");
    puthex(info[1]);
    puts0("\n");

    /* ":tt": standard input, output and error; the lowest free handles. */
    int in = sh_open(":tt", 3, 0), out = sh_open(":tt", 3, 4);
    int err = sh_open(":tt", 3, 8);
    check(in == 1 && out == 2 && err == 3);
    check(sh_rw(SYS_WRITE, out, out_line, sizeof out_line - 1) == 0);
    check(sh_rw(SYS_WRITE, err, err_line, sizeof err_line - 1) == 0);
    check(sh_rw(SYS_READ, in, buf, 4) == 4); /* at its end: nothing read */
    check(sh_h(SYS_CLOSE, out) == 0);
    check(sh_open(":tt", 3, 5) == out);

    /* ":semihosting-features": "SHFB", EXIT_EXTENDED | STDOUT_STDERR. */
    int f = sh_open(":semihosting-features", 21, 0);
    check(f == 4);
    check(sh_h(SYS_ISTTY, f) == 0);
    check(sh_h(SYS_FLEN, f) == 5);
    check(sh_rw(SYS_READ, f, buf, 16) == 11);
    check(buf[0] == 'S' && buf[1] == 'H' && buf[2] == 'F' && buf[3] == 'B');
    check(buf[4] == 3);
    uint32_t to[2] = {(uint32_t)f, 4};
    check(semihost(SYS_SEEK, to) == 0);
    buf[0] = 0;
    check(sh_rw(SYS_READ, f, buf, 2) == 1 && buf[0] == 3);
    check(sh_h(SYS_CLOSE, f) == 0);

    /* Errors: a closed handle, a read-only file opened for writing. */
    check(sh_h(SYS_CLOSE, f) == -1);
    check(semihost(SYS_ERRNO, 0) == EBADF);
    check(sh_open(":semihosting-features", 21, 4) == -1);
    check(semihost(SYS_ERRNO, 0) == EACCES);
    int minus_one = -1, zero = 0;
    check(semihost(SYS_ISERROR, &minus_one) == 1);
    check(semihost(SYS_ISERROR, &zero) == 0);

    /* Time: 64-bit ticks at SYS_TICKFREQ. */
    uint32_t ticks[2] = {0xffffffffu, 0xffffffffu};
    check(semihost(SYS_TICKFREQ, 0) == 1000000000);
    check(semihost(SYS_ELAPSED, ticks) == 0 && ticks[1] < 0x100);

    /* The command line: a NUL-terminated string and its length. */
    uint32_t cl[2] = {(uint32_t)cmdline, sizeof cmdline};
    cmdline[0] = 'x';
    check(semihost(SYS_GET_CMDLINE, cl) == 0);
    check(cl[1] < sizeof cmdline && cmdline[cl[1]] == 0);

    puts0("semihost: all tests passed\n");
    sys_exit(0);
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
    run();
}
