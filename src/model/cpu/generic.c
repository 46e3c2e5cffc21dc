/* generic.c - the portable C back end of the kernels, compiled for the build's baseline
 * (x86-64-v2, armv8-a): the fallback on every CPU and what KOKORO_CPU=generic forces. */
#include "model/cpu/kernels.h"

#include <math.h>

#define KK_VARIANT generic
#if defined(__SSE4_1__) /* x86-64-v2: the 8-bit weights widened by pmovsxbd, not one by one */
#include <smmintrin.h>
#include <string.h>
#define KK_QG_WIDEN(dst, p)                                                                    \
    do {                                                                                       \
        int32_t four_;                                                                         \
        memcpy(&four_, (p), 4);                                                                \
        (dst) = (kk_qv)_mm_cvtepi32_ps(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(four_)));            \
    } while (0)
#endif
#include "model/cpu/body.h"

const kk_kernels kk_kernels_generic = KK_BODY_TABLE("generic");
