/* generic.c - the portable C back end of the kernels, compiled for the build's baseline
 * (x86-64-v2, armv8-a): the fallback on every CPU and what KOKORO_CPU=generic forces. */
#include "model/cpu/kernels.h"

#include <math.h>

#define KK_VARIANT generic
#include "model/cpu/body.h"

const kk_kernels kk_kernels_generic = KK_BODY_TABLE("generic");
