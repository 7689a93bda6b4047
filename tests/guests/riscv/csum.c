/*
 * Freestanding RV64I guest (no M extension: no multiplication or division
 * anywhere, so no libgcc). Fills a buffer from a xorshift64 generator,
 * computes its Adler-32 checksum (reductions by subtraction), bubble-sorts a
 * copy of the first 64 words, counts primes below 1000 with a sieve (no
 * multiplication: multiples are walked by addition), prints the results in
 * hex and "csum: ok\n" if all of them match the values computed off-line
 * (Python's zlib.adler32 over the same bytes), and exits 0; otherwise prints
 * "csum: FAIL\n" and exits 1. Entry, stack and exit are in start.S.
 */
#include <stdint.h>
#include <stddef.h>

void putc(int c);

#define BUF_LEN 4096
#define ADLER_MOD 65521u
#define EXPECTED_STATE 0x6ecc41a6a68bae2bull
#define EXPECTED_ADLER 0x34dd149au
#define EXPECTED_MIN 0x08f474ffb8e8ab15ull
#define EXPECTED_PRIMES 168u
#define SORT_LEN 64

static uint8_t buf[BUF_LEN];
static uint64_t sorted[SORT_LEN];
static uint8_t composite[1000];

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

static void print(const char *s)
{
    while (*s)
        putc(*s++);
}

static void print_hex(const char *label, uint64_t v, int digits)
{
    print(label);
    print("=0x");
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
        putc("0123456789abcdef"[(v >> shift) & 0xf]);
    putc('\n');
}

static uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += p[i];
        if (a >= ADLER_MOD)
            a -= ADLER_MOD;
        b += a;
        if (b >= ADLER_MOD)
            b -= ADLER_MOD;
    }
    return (b << 16) | a;
}

static int bubble_sort_ok(void)
{
    memcpy(sorted, buf, sizeof sorted);
    for (int n = SORT_LEN; n > 1; n--) {
        for (int i = 0; i + 1 < n; i++) {
            if (sorted[i] > sorted[i + 1]) {
                uint64_t t = sorted[i];
                sorted[i] = sorted[i + 1];
                sorted[i + 1] = t;
            }
        }
    }
    for (int i = 0; i + 1 < SORT_LEN; i++)
        if (sorted[i] > sorted[i + 1])
            return 0;
    return 1;
}

static uint32_t count_primes(void)
{
    uint32_t count = 0;
    memset(composite, 0, sizeof composite);
    for (uint32_t i = 2; i < sizeof composite; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint32_t j = i + i; j < sizeof composite; j += i)
            composite[j] = 1;
    }
    return count;
}

int main(void)
{
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < BUF_LEN; i += 8) {
        uint64_t r = xorshift64(&state);
        for (int k = 0; k < 8; k++)
            buf[i + k] = (uint8_t)(r >> (8 * k));
    }
    uint32_t adler = adler32(buf, BUF_LEN);
    int sort_ok = bubble_sort_ok();
    uint32_t primes = count_primes();

    print_hex("xorshift", state, 16);
    print_hex("adler32", adler, 8);
    print_hex("sorted[0]", sorted[0], 16);
    print_hex("primes", primes, 8);
    if (state == EXPECTED_STATE && adler == EXPECTED_ADLER && sort_ok &&
        sorted[0] == EXPECTED_MIN && primes == EXPECTED_PRIMES) {
        print("csum: ok\n");
        return 0;
    }
    print("csum: FAIL\n");
    return 1;
}
