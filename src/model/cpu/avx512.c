/* avx512.c - the kernels of body.h compiled for AVX-512 F (with AVX2 + FMA, which every
 * AVX-512 CPU has), x86-64 only: 16 floats per instruction. Chosen by cpu.c when the CPU and
 * the OS (ZMM state saved) support AVX-512 F. */
#if defined(__x86_64__)
#include "model/cpu/kernels.h"

#include <immintrin.h>
#include <math.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma,prefer-vector-width=512")
#endif

#define KK_VARIANT avx512
#define KK_QG_NB 2 /* 2 x 12 accumulators of the 32 registers */
#define KK_QG_NR 12
#define KK_QG_VL 16
#define KK_QG_WIDEN(dst, p) \
    ((dst) = (kk_qv)_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p)))))
#include "model/cpu/body.h"

const kk_kernels kk_kernels_avx512 = KK_BODY_TABLE("avx512");

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else
typedef int kk_avx512_unused; /* ISO C wants something in a translation unit */
#endif
