/* avx2.c - the kernels of body.h compiled for AVX2 + FMA (x86-64 only). Only these functions
 * carry the wider instructions: cpu.c picks this table once the CPU is known to have them. */
#if defined(__x86_64__)
#include "model/cpu/kernels.h"

#include <immintrin.h>
#include <math.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

#define KK_VARIANT avx2
#define KK_QG_NB 1 /* 2 x 6 accumulators of the 16 registers */
#define KK_QG_NR 6
#define KK_QG_VL 8
#define KK_QG_WIDEN(dst, p) \
    ((dst) = (kk_qv)_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p)))))
#include "model/cpu/body.h"

const kk_kernels kk_kernels_avx2 = KK_BODY_TABLE("avx2");

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else
typedef int kk_avx2_unused; /* ISO C wants something in a translation unit */
#endif
