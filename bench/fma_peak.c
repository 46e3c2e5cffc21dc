/* fma_peak.c - this CPU's float32 multiply-add peak on one core, measured with a small loop of
 * independent fused multiply-adds (enough accumulators to hide the FMA latency), with the
 * widest vectors the CPU offers. Prints one JSON line: {"isa", "gflops"}. A measurement for
 * bench/run_bench.py, not part of the engine. */
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define ACC 12 /* accumulators: more than latency x throughput (4 x 2) of current cores */

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static float loop512(long n)
{
    __m512 a[ACC], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++) a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    }
    __m512 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float loop256(long n)
{
    __m256 a[ACC], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++) a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    }
    __m256 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm256_add_ps(s, a[i]);
    float o[8];
    _mm256_storeu_ps(o, s);
    return o[0] + o[1] + o[2] + o[3] + o[4] + o[5] + o[6] + o[7];
}
#endif

int main(void)
{
    const char *isa = "none";
    int lanes = 0;
    float (*fn)(long) = NULL;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        isa = "avx512", lanes = 16, fn = loop512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa = "avx2+fma", lanes = 8, fn = loop256;
#endif
    if (!fn) {
        printf("{\"isa\": \"%s\", \"gflops\": 0}\n", isa);
        return 0;
    }
    long n = 1000000;
    volatile float sink = fn(n / 10); /* warm-up: clocks up, code in cache */
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t = now();
        sink = fn(n);
        t = now() - t;
        if (t < best)
            best = t;
    }
    (void)sink;
    double flops = 2.0 * lanes * ACC * (double)n;
    printf("{\"isa\": \"%s\", \"gflops\": %.1f}\n", isa, flops / best / 1e9);
    return 0;
}
