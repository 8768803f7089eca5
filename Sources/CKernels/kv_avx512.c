// Attention over KV pages, AVX-512 path: 16 elements loaded per instruction (f32 as stored; bf16
// widened by a 16-bit shift; half by vcvtph2ps), f32 fused multiply-adds.
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

void ck_f32_to_f16_avx512(uint16_t *out, const float *in, size_t count) {
    for (size_t i = 0; i + 16 <= count; i += 16) {
        __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(out + i), h);
    }
}

/// Elements d..d+15 of a row stored as `format`, as f32.
CK_AI __m512 ck_kv_load16(const void *row, int d, ck_kv_format format) {
    if (format == CK_KV_F32) return _mm512_loadu_ps((const float *)row + d);
    __m256i raw = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + d));
    if (format == CK_KV_F16) return _mm512_cvtph_ps(raw);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

CK_AI void ck_kv_scores_impl(float *scores, const float *q, const ck_kvargs *a, float scale, ck_kv_format format) {
    const int dim = a->head_dim, dim16 = dim / 16 * 16;
    CK_KV_EACH_ENTRY(a, ck_kv_elem_bytes(format), e, k, {
        __m512 acc = _mm512_setzero_ps();
        for (int d = 0; d < dim16; d += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), ck_kv_load16(k, d, format), acc);
        float s = _mm512_reduce_add_ps(acc);
        for (int d = dim16; d < dim; d++) s += q[d] * ck_kv_element(k, d, format);
        scores[e] = s * scale;
    });
}

CK_AI void ck_kv_weighted_sum_impl(float *out, const float *weights, const ck_kvargs *a, ck_kv_format format) {
    const int dim = a->head_dim;
    const size_t width = ck_kv_elem_bytes(format);
    int d0 = 0;
    // 64 output lanes at a time stay in four registers over all entries.
    for (; d0 + 64 <= dim; d0 += 64) {
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        CK_KV_EACH_ENTRY(a, width, e, v, {
            const __m512 p = _mm512_set1_ps(weights[e]);
            acc0 = _mm512_fmadd_ps(p, ck_kv_load16(v, d0, format), acc0);
            acc1 = _mm512_fmadd_ps(p, ck_kv_load16(v, d0 + 16, format), acc1);
            acc2 = _mm512_fmadd_ps(p, ck_kv_load16(v, d0 + 32, format), acc2);
            acc3 = _mm512_fmadd_ps(p, ck_kv_load16(v, d0 + 48, format), acc3);
        });
        _mm512_storeu_ps(out + d0, acc0);
        _mm512_storeu_ps(out + d0 + 16, acc1);
        _mm512_storeu_ps(out + d0 + 32, acc2);
        _mm512_storeu_ps(out + d0 + 48, acc3);
    }
    for (; d0 + 16 <= dim; d0 += 16) {
        __m512 acc = _mm512_setzero_ps();
        CK_KV_EACH_ENTRY(a, width, e, v, { acc = _mm512_fmadd_ps(_mm512_set1_ps(weights[e]), ck_kv_load16(v, d0, format), acc); });
        _mm512_storeu_ps(out + d0, acc);
    }
    for (; d0 < dim; d0++) {
        float s = 0.0f;
        CK_KV_EACH_ENTRY(a, width, e, v, { s += weights[e] * ck_kv_element(v, d0, format); });
        out[d0] = s;
    }
}

// One instantiation per format, so the element type is a constant inside the loops.
void ck_kv_scores_avx512(float *scores, const float *q, const ck_kvargs *a, float scale, ck_kv_format format) {
    switch (format) {
    case CK_KV_F32: ck_kv_scores_impl(scores, q, a, scale, CK_KV_F32); return;
    case CK_KV_F16: ck_kv_scores_impl(scores, q, a, scale, CK_KV_F16); return;
    default: ck_kv_scores_impl(scores, q, a, scale, CK_KV_BF16); return;
    }
}

void ck_kv_weighted_sum_avx512(float *out, const float *weights, const ck_kvargs *a, ck_kv_format format) {
    switch (format) {
    case CK_KV_F32: ck_kv_weighted_sum_impl(out, weights, a, CK_KV_F32); return;
    case CK_KV_F16: ck_kv_weighted_sum_impl(out, weights, a, CK_KV_F16); return;
    default: ck_kv_weighted_sum_impl(out, weights, a, CK_KV_BF16); return;
    }
}

#pragma clang attribute pop
#endif
