/*
 * Single-precision floating point as a compiler uses it on a Cortex-M4F
 * (hard-float ABI: arguments and results in s0-s15): newlib's libm
 * (sqrtf, sinf, expf, logf, fmaf, fminf/fmaxf, lrintf), conversions to
 * and from integers and strings, and printf of the results, with newlib's
 * semihosting start file (see newlib.c). Exits 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    float acc = 0.0f;
    volatile float x = 1.1f;
    for (int i = 1; i < 200; i++) {
        acc += sqrtf((float)i) * x / (float)(i + 3);
        acc = fmaf(acc, 0.999f, 0.001f);
    }
    printf("newlib-fp: acc %.6f\n", (double)acc);

    float v[50];
    for (int i = 0; i < 50; i++) {
        v[i] = sinf((float)i * 0.3f) * 100.0f;
    }
    float lo = v[0], hi = v[0];
    for (int i = 1; i < 50; i++) {
        lo = fminf(lo, v[i]);
        hi = fmaxf(hi, v[i]);
    }
    printf("newlib-fp: min %f max %f %d %u\n", (double)lo, (double)hi,
           (int)(hi * 3.7f), (unsigned)(hi * 2.0f));
    printf("newlib-fp: exp %.7g log %.7g lrint %ld %ld\n", (double)expf(x),
           (double)logf(x * 10.0f), lrintf(2.5f), lrintf(-3.5f));
    printf("newlib-fp: strtof %.9g %.9g %g\n", (double)strtof("3.25", NULL),
           (double)strtof("1e-39", NULL), (double)strtof("inf", NULL));
    return 0;
}
