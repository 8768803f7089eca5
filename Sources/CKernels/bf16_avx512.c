// bf16 conversion and products, AVX-512 BF16 path (vdpbf16ps: 32 bf16 pairs -> 16 f32 lanes).
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"))), \
                             apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

void ck_f32_to_bf16_avx512(uint16_t *out, const float *in, size_t count) {
    // Integer rounding rather than vcvtneps2bf16, which flushes denormals: every path gives the same bits.
    const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7FFF), quiet = _mm512_set1_epi32(0x40);
    for (size_t i = 0; i + 16 <= count; i += 16) {
        __m512i u = _mm512_loadu_si512((const void *)(in + i));
        __mmask16 is_nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, abs_mask), inf);
        __m512i hi = _mm512_srli_epi32(u, 16);
        __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_and_si512(hi, one), bias)), 16);
        rounded = _mm512_mask_mov_epi32(rounded, is_nan, _mm512_or_si512(hi, quiet));
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(rounded));
    }
}

CK_AI __m128 ck_to128(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

CK_AI __m128 ck_sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    return _mm_hadd_ps(_mm_hadd_ps(ck_to128(a), ck_to128(b)), _mm_hadd_ps(ck_to128(c), ck_to128(d)));
}

CK_AI float ck_sum1(__m512 a) {
    __m128 h = ck_to128(a);
    h = _mm_hadd_ps(h, h);
    h = _mm_hadd_ps(h, h);
    return _mm_cvtss_f32(h);
}

/// y[m0..m0+MR][n0..n0+NR] over all of K (tail masked, so any K works).
CK_AI void ck_bf16_tile(const ck_bf16args *a, const int MR, const int NR, int m0, int n0) {
    __m512 acc[4][4];
    const uint16_t *wrow[4], *xrow[4];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) wrow[n] = a->w + (size_t)(n0 + n) * a->K;
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        xrow[m] = a->x + (size_t)(m0 + m) * a->ldx;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) acc[m][n] = _mm512_setzero_ps();
    }
    for (int k = 0; k < a->K; k += 32) {
        const int left = a->K - k;
        const __mmask32 mask = left >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << left) - 1);
        __m512i w[4];
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) w[n] = _mm512_maskz_loadu_epi16(mask, wrow[n] + k);
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            __m512i x = _mm512_maskz_loadu_epi16(mask, xrow[m] + k);
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) acc[m][n] = _mm512_dpbf16_ps(acc[m][n], (__m512bh)x, (__m512bh)w[n]);
        }
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        float *out = a->y + (size_t)(m0 + m) * a->ldy + n0;
        if (NR == 4) {
            _mm_storeu_ps(out, ck_sum4(acc[m][0], acc[m][1], acc[m][2], acc[m][3]));
        } else {
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) out[n] = ck_sum1(acc[m][n]);
        }
    }
}

CK_DEFINE_TILED_MATMUL(ck_bf16_matmul_avx512, ck_bf16args, ck_bf16_tile)

#pragma clang attribute pop
#endif
