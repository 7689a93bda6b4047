/*
 * A hosted C program on bare metal: newlib with `--specs=rdimon.specs`,
 * whose system calls are semihosting calls (stdio through ":tt" handles,
 * sbrk bounded by SYS_HEAPINFO, exit through SYS_EXIT_EXTENDED). It
 * prints with printf (integers, strings, floating point), allocates,
 * sorts, parses, longjmps, writes a line to stderr, and exits with status
 * 3 through atexit handlers — as on `qemu-system-arm -semihosting`.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static jmp_buf env;

static int deep(int n)
{
    if (n == 0) {
        longjmp(env, 42);
    }
    if (n < 0) {
        return n;
    }
    return deep(n - 1) + 1;
}

static void bye(void)
{
    printf("newlib: atexit handler\n");
}

int main(void)
{
    atexit(bye);
    printf("newlib: hello %d %u %x %s %c\n", -42, 42u, 0xbeefu, "str", '!');
    printf("newlib: %lld %5.2f %e %g\n", 1234567890123ll, 3.14159, 1e-10, 2.5);

    int n = 1000;
    int *v = malloc(n * sizeof *v);
    if (v == NULL) {
        return 1;
    }
    for (int i = 0; i < n; i++) {
        v[i] = (i * 7919) % 1009;
    }
    qsort(v, n, sizeof *v, cmp);
    long sum = 0;
    for (int i = 0; i < n; i++) {
        sum += v[i];
    }
    printf("newlib: sorted min %d max %d sum %ld\n", v[0], v[n - 1], sum);
    v = realloc(v, 2 * n * sizeof *v);
    free(v);

    char buf[64];
    snprintf(buf, sizeof buf, "%08.3f|%-6s|%+d", -2.5, "ab", 7);
    int a = 0, b = 0;
    sscanf("17 0x1f", "%d %i", &a, &b);
    printf("newlib: [%s] %d %d %ld %.1f\n", buf, a, b, strtol("-123", NULL, 10),
           strtod("6.25e1", NULL));

    int r = setjmp(env);
    if (r == 0) {
        r = deep(10);
    }
    printf("newlib: longjmp %d\n", r);

    fprintf(stderr, "newlib: to stderr\n");
    return 3;
}
