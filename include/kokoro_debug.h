/* kokoro_debug.h - test and benchmark hooks of libkokoro, apart from the public API in
 * kokoro.h: the CLI's bench and dump commands and the engine tests switch the forward pass
 * onto its reference paths and read per-stage timings through these, so that no program
 * outside the library includes its private headers (src/model/model.h, kernels.h).
 *
 * Not for services: the switches change speed, never the contract of kokoro.h, and the
 * layout behind them may change with the engine. None of these can fail. */
#ifndef KOKORO_DEBUG_H
#define KOKORO_DEBUG_H

#include "kokoro.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The forward pass's stages, in order, for kokoro_debug_stage_seconds. */
#define KOKORO_DEBUG_STAGES 6

/* The name of stage i ("albert", "predictor", ...), or NULL outside [0, KOKORO_DEBUG_STAGES). */
const char *kokoro_debug_stage_name(int i);

/* Seconds spent in each stage by st's last synthesis: KOKORO_DEBUG_STAGES values. */
const double *kokoro_debug_stage_seconds(const kokoro_state *st);

/* on = 1: st keeps its intermediates, read back with kokoro_state_tensor (dump, parity). */
void kokoro_debug_keep_tensors(kokoro_state *st, int on);

/* on = 1: direct convolutions, no Winograd and no FFT (the reference path). */
void kokoro_debug_direct_conv(kokoro_state *st, int on);

/* on = 1: Winograd where the FFT convolutions would run (comparisons). */
void kokoro_debug_no_fft(kokoro_state *st, int on);

/* Bytes of dequantised weights st keeps in its scratch slots (at most
 * KOKORO_STATE_WEIGHT_BYTES). */
size_t kokoro_debug_weight_bytes(const kokoro_state *st);

#ifdef __cplusplus
}
#endif

#endif
