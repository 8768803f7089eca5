// Attention over KV pages, AVX-512 path: 16 elements loaded per instruction (f32 as stored; bf16
// widened by a 16-bit shift; half by vcvtph2ps; 8-bit blocks sign-extended, converted and scaled), f32
// fused multiply-adds.
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
    if (format == CK_KV_Q8) {  // 16 | 32: the 16 elements share one block's scale
        const unsigned char *block = (const unsigned char *)row + (size_t)(d / CK_KV_Q8_BLOCK) * CK_KV_Q8_BLOCK_BYTES;
        float scale;
        memcpy(&scale, block, sizeof scale);
        const __m128i q = _mm_loadu_si128((const __m128i *)(block + 4 + d % CK_KV_Q8_BLOCK));
        return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), _mm512_set1_ps(scale));
    }
    __m256i raw = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + d));
    if (format == CK_KV_F16) return _mm512_cvtph_ps(raw);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

/// Scores of G query heads (a constant 1...4) against every entry: each K row is loaded once for all G.
CK_AI void ck_kv_scores_impl(float *scores, const float *q, const ck_kvargs *a, float scale, ck_kv_format format,
                             const int G) {
    const int dim = a->head_dim, dim16 = dim / 16 * 16;
    const size_t n = (size_t)a->entry_count;
    CK_KV_EACH_ENTRY(a, format, e, k, {
        __m512 acc[CK_KV_MAX_GROUP];
        for (int g = 0; g < G; g++) acc[g] = _mm512_setzero_ps();
        for (int d = 0; d < dim16; d += 16) {
            const __m512 kd = ck_kv_load16(k, d, format);
            for (int g = 0; g < G; g++) acc[g] = _mm512_fmadd_ps(_mm512_loadu_ps(q + g * dim + d), kd, acc[g]);
        }
        for (int g = 0; g < G; g++) {
            float s = _mm512_reduce_add_ps(acc[g]);
            for (int d = dim16; d < dim; d++) s += q[g * dim + d] * ck_kv_element(k, d, format);
            scores[g * n + e] = s * scale;
        }
    });
}

/// Weighted sums of V for G query heads (a constant 1...4): each V row is loaded once for all G.
CK_AI void ck_kv_weighted_sum_impl(float *out, const float *weights, const ck_kvargs *a, ck_kv_format format,
                                   const int G) {
    const int dim = a->head_dim;
    const size_t n = (size_t)a->entry_count;
    int d0 = 0;
    // 64 output lanes per head at a time stay in 4 * G registers over all entries.
    for (; d0 + 64 <= dim; d0 += 64) {
        __m512 acc[CK_KV_MAX_GROUP][4];
        for (int g = 0; g < G; g++)
            for (int j = 0; j < 4; j++) acc[g][j] = _mm512_setzero_ps();
        CK_KV_EACH_ENTRY(a, format, e, v, {
            const __m512 v0 = ck_kv_load16(v, d0, format), v1 = ck_kv_load16(v, d0 + 16, format);
            const __m512 v2 = ck_kv_load16(v, d0 + 32, format), v3 = ck_kv_load16(v, d0 + 48, format);
            for (int g = 0; g < G; g++) {
                const __m512 p = _mm512_set1_ps(weights[g * n + e]);
                acc[g][0] = _mm512_fmadd_ps(p, v0, acc[g][0]);
                acc[g][1] = _mm512_fmadd_ps(p, v1, acc[g][1]);
                acc[g][2] = _mm512_fmadd_ps(p, v2, acc[g][2]);
                acc[g][3] = _mm512_fmadd_ps(p, v3, acc[g][3]);
            }
        });
        for (int g = 0; g < G; g++)
            for (int j = 0; j < 4; j++) _mm512_storeu_ps(out + g * dim + d0 + 16 * j, acc[g][j]);
    }
    for (; d0 + 16 <= dim; d0 += 16) {
        __m512 acc[CK_KV_MAX_GROUP];
        for (int g = 0; g < G; g++) acc[g] = _mm512_setzero_ps();
        CK_KV_EACH_ENTRY(a, format, e, v, {
            const __m512 vd = ck_kv_load16(v, d0, format);
            for (int g = 0; g < G; g++) acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(weights[g * n + e]), vd, acc[g]);
        });
        for (int g = 0; g < G; g++) _mm512_storeu_ps(out + g * dim + d0, acc[g]);
    }
    ck_kv_weighted_sum_tail(out, weights, a, format, G, d0);
}

// One instantiation per format and group size, so both are constants inside the loops.
void ck_kv_scores_avx512(float *scores, const float *q, int q_count, const ck_kvargs *a, float scale, ck_kv_format format) {
#define CK_CALL(F, G) ck_kv_scores_impl(scores, q, a, scale, F, G)
    CK_KV_DISPATCH(format, q_count, CK_CALL);
#undef CK_CALL
}

void ck_kv_weighted_sum_avx512(float *out, const float *weights, int q_count, const ck_kvargs *a, ck_kv_format format) {
#define CK_CALL(F, G) ck_kv_weighted_sum_impl(out, weights, a, F, G)
    CK_KV_DISPATCH(format, q_count, CK_CALL);
#undef CK_CALL
}

#pragma clang attribute pop
#endif
