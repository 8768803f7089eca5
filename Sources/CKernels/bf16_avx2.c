// bf16 conversion and products, AVX2 path: bf16 widens to f32 exactly (a 16-bit shift), then FMA.
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))
#include "ck_avx2.h"

CK_AI __m256i ck_bf16_round8(__m256i u) {
    const __m256i magnitude = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i is_nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7F800000));
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
    return _mm256_blendv_epi8(rounded, quiet, is_nan);
}

void ck_f32_to_bf16_avx2(uint16_t *out, const float *in, size_t count) {
    for (size_t i = 0; i + 16 <= count; i += 16) {
        __m256i lo = ck_bf16_round8(_mm256_loadu_si256((const __m256i *)(in + i)));
        __m256i hi = ck_bf16_round8(_mm256_loadu_si256((const __m256i *)(in + i + 8)));
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
        _mm256_storeu_si256((__m256i *)(out + i), packed);
    }
}

CK_AI __m256 ck_widen8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

/// One weight row n against MR rows of x starting at m0.
CK_AI void ck_bf16_row(const ck_bf16args *a, const int MR, int m0, int n) {
    const uint16_t *wn = a->w + (size_t)n * a->K;
    const int K8 = a->K / 8 * 8;
    __m256 acc[4];
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) acc[m] = _mm256_setzero_ps();
    for (int k = 0; k < K8; k += 8) {
        __m256 w = ck_widen8(wn + k);
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) acc[m] = _mm256_fmadd_ps(ck_widen8(a->x + (size_t)(m0 + m) * a->ldx + k), w, acc[m]);
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        const uint16_t *xm = a->x + (size_t)(m0 + m) * a->ldx;
        float total = ck_sum8_hadd(acc[m]);
        for (int k = K8; k < a->K; k++) total += ck_bf16_to_float(xm[k]) * ck_bf16_to_float(wn[k]);
        a->y[(size_t)(m0 + m) * a->ldy + n] = total;
    }
}

static void ck_bf16_row1(const ck_bf16args *a, int m0, int n) { ck_bf16_row(a, 1, m0, n); }
static void ck_bf16_row2(const ck_bf16args *a, int m0, int n) { ck_bf16_row(a, 2, m0, n); }
static void ck_bf16_row3(const ck_bf16args *a, int m0, int n) { ck_bf16_row(a, 3, m0, n); }
static void ck_bf16_row4(const ck_bf16args *a, int m0, int n) { ck_bf16_row(a, 4, m0, n); }

void ck_bf16_matmul_avx2(const ck_bf16args *a, int n_begin, int n_end) {
    void (*const rows[4])(const ck_bf16args *, int, int) = {ck_bf16_row1, ck_bf16_row2, ck_bf16_row3, ck_bf16_row4};
    CK_WALK_ROWS(a, n_begin, n_end, rows)
}

#pragma clang attribute pop
#endif
