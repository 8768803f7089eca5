// Attention over KV pages, AVX2 path: 8 elements loaded per instruction (f32 as stored; bf16 widened by a
// 16-bit shift; half by F16C vcvtph2ps), f32 fused multiply-adds.
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

void ck_f32_to_f16_avx2(uint16_t *out, const float *in, size_t count) {
    for (size_t i = 0; i + 8 <= count; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
}

/// Elements d..d+7 of a row stored as `format`, as f32.
CK_AI __m256 ck_kv_load8(const void *row, int d, ck_kv_format format) {
    if (format == CK_KV_F32) return _mm256_loadu_ps((const float *)row + d);
    __m128i raw = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + d));
    if (format == CK_KV_F16) return _mm256_cvtph_ps(raw);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

CK_AI float ck_kv_sum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

CK_AI void ck_kv_scores_impl(float *scores, const float *q, const ck_kvargs *a, float scale, ck_kv_format format) {
    const int dim = a->head_dim, dim16 = dim / 16 * 16, dim8 = dim / 8 * 8;
    CK_KV_EACH_ENTRY(a, ck_kv_elem_bytes(format), e, k, {
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
        int d = 0;
        for (; d < dim16; d += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), ck_kv_load8(k, d, format), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), ck_kv_load8(k, d + 8, format), acc1);
        }
        for (; d < dim8; d += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), ck_kv_load8(k, d, format), acc0);
        float s = ck_kv_sum8(_mm256_add_ps(acc0, acc1));
        for (; d < dim; d++) s += q[d] * ck_kv_element(k, d, format);
        scores[e] = s * scale;
    });
}

CK_AI void ck_kv_weighted_sum_impl(float *out, const float *weights, const ck_kvargs *a, ck_kv_format format) {
    const int dim = a->head_dim;
    const size_t width = ck_kv_elem_bytes(format);
    int d0 = 0;
    // 32 output lanes at a time stay in four registers over all entries.
    for (; d0 + 32 <= dim; d0 += 32) {
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        CK_KV_EACH_ENTRY(a, width, e, v, {
            const __m256 p = _mm256_set1_ps(weights[e]);
            acc0 = _mm256_fmadd_ps(p, ck_kv_load8(v, d0, format), acc0);
            acc1 = _mm256_fmadd_ps(p, ck_kv_load8(v, d0 + 8, format), acc1);
            acc2 = _mm256_fmadd_ps(p, ck_kv_load8(v, d0 + 16, format), acc2);
            acc3 = _mm256_fmadd_ps(p, ck_kv_load8(v, d0 + 24, format), acc3);
        });
        _mm256_storeu_ps(out + d0, acc0);
        _mm256_storeu_ps(out + d0 + 8, acc1);
        _mm256_storeu_ps(out + d0 + 16, acc2);
        _mm256_storeu_ps(out + d0 + 24, acc3);
    }
    for (; d0 + 8 <= dim; d0 += 8) {
        __m256 acc = _mm256_setzero_ps();
        CK_KV_EACH_ENTRY(a, width, e, v, { acc = _mm256_fmadd_ps(_mm256_set1_ps(weights[e]), ck_kv_load8(v, d0, format), acc); });
        _mm256_storeu_ps(out + d0, acc);
    }
    for (; d0 < dim; d0++) {
        float s = 0.0f;
        CK_KV_EACH_ENTRY(a, width, e, v, { s += weights[e] * ck_kv_element(v, d0, format); });
        out[d0] = s;
    }
}

// One instantiation per format, so the element type is a constant inside the loops.
void ck_kv_scores_avx2(float *scores, const float *q, const ck_kvargs *a, float scale, ck_kv_format format) {
    switch (format) {
    case CK_KV_F32: ck_kv_scores_impl(scores, q, a, scale, CK_KV_F32); return;
    case CK_KV_F16: ck_kv_scores_impl(scores, q, a, scale, CK_KV_F16); return;
    default: ck_kv_scores_impl(scores, q, a, scale, CK_KV_BF16); return;
    }
}

void ck_kv_weighted_sum_avx2(float *out, const float *weights, const ck_kvargs *a, ck_kv_format format) {
    switch (format) {
    case CK_KV_F32: ck_kv_weighted_sum_impl(out, weights, a, CK_KV_F32); return;
    case CK_KV_F16: ck_kv_weighted_sum_impl(out, weights, a, CK_KV_F16); return;
    default: ck_kv_weighted_sum_impl(out, weights, a, CK_KV_BF16); return;
    }
}

#pragma clang attribute pop
#endif
