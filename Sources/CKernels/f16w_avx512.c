// f16 weights x f32 activations, AVX-512 path (vcvtph2ps widens 16 halves, FMA into 16 lanes).
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

CK_AI float ck_f16w_sum(__m512 v) { return _mm512_reduce_add_ps(v); }

/// y[m0..m0+MR][n0..n0+NR] over all of K (tail masked, so any K works).
CK_AI void ck_f16w_tile(const ck_f16wargs *a, const int MR, const int NR, int m0, int n0) {
    __m512 acc[4][4];
    const uint16_t *wrow[4];
    const float *xrow[4];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) wrow[n] = a->w + (size_t)(n0 + n) * a->K;
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        xrow[m] = a->x + (size_t)(m0 + m) * a->ldx;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) acc[m][n] = _mm512_setzero_ps();
    }
    for (int k = 0; k < a->K; k += 16) {
        const int left = a->K - k;
        const __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        __m512 w[4];
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) w[n] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, wrow[n] + k));
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            __m512 x = _mm512_maskz_loadu_ps(mask, xrow[m] + k);
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) acc[m][n] = _mm512_fmadd_ps(x, w[n], acc[m][n]);
        }
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        float *out = a->y + (size_t)(m0 + m) * a->ldy + n0;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) out[n] = ck_f16w_sum(acc[m][n]);
    }
}

CK_DEFINE_TILED_MATMUL(ck_f16w_matmul_avx512, ck_f16wargs, ck_f16w_tile)

#pragma clang attribute pop
#endif
