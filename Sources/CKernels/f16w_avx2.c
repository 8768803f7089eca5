// f16 weights x f32 activations, AVX2 path (F16C widens 8 halves, FMA into 8 lanes; a scalar K tail).
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))
#include "ck_avx2.h"

/// y[m0..m0+MR][n0..n0+NR] over all of K.
CK_AI void ck_f16w_tile(const ck_f16wargs *a, const int MR, const int NR, int m0, int n0) {
    __m256 acc[4][4];
    const uint16_t *wrow[4];
    const float *xrow[4];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) wrow[n] = a->w + (size_t)(n0 + n) * a->K;
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        xrow[m] = a->x + (size_t)(m0 + m) * a->ldx;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) acc[m][n] = _mm256_setzero_ps();
    }
    const int K8 = a->K / 8 * 8;
    for (int k = 0; k < K8; k += 8) {
        __m256 w[4];
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) w[n] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wrow[n] + k)));
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            __m256 x = _mm256_loadu_ps(xrow[m] + k);
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) acc[m][n] = _mm256_fmadd_ps(x, w[n], acc[m][n]);
        }
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        float *out = a->y + (size_t)(m0 + m) * a->ldy + n0;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) {
            float sum = ck_sum8_hadd(acc[m][n]);
            for (int k = K8; k < a->K; k++) sum += xrow[m][k] * ck_half_to_float(wrow[n][k]);
            out[n] = sum;
        }
    }
}

CK_DEFINE_TILED_MATMUL(ck_f16w_matmul_avx2, ck_f16wargs, ck_f16w_tile)

#pragma clang attribute pop
#endif
