// Attention over KV pages, AVX2 path: 8 elements loaded per instruction (f32 as stored; bf16 widened by a
// 16-bit shift; half by F16C vcvtph2ps; 8-bit blocks sign-extended, converted and scaled), f32 fused
// multiply-adds.
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))
#include "ck_avx2.h"

void ck_f32_to_f16_avx2(uint16_t *out, const float *in, size_t count) {
    for (size_t i = 0; i + 8 <= count; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
}

/// Elements d..d+7 of a row stored as `format`, as f32.
CK_AI __m256 ck_kv_load8(const void *row, int d, ck_kv_format format) {
    if (format == CK_KV_F32) return _mm256_loadu_ps((const float *)row + d);
    if (format == CK_KV_Q8) {  // 8 | 32: the 8 elements share one block's scale
        const unsigned char *block = (const unsigned char *)row + (size_t)(d / CK_KV_Q8_BLOCK) * CK_KV_Q8_BLOCK_BYTES;
        float scale;
        memcpy(&scale, block, sizeof scale);
        const __m128i q = _mm_loadl_epi64((const __m128i *)(block + 4 + d % CK_KV_Q8_BLOCK));
        return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(scale));
    }
    __m128i raw = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + d));
    if (format == CK_KV_F16) return _mm256_cvtph_ps(raw);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

/// Scores of G query heads (a constant 1...4) against every entry: each K row is loaded once for all G.
CK_AI void ck_kv_scores_impl(float *scores, const float *q, const ck_kvargs *a, float scale, ck_kv_format format,
                             const int G) {
    const int dim = a->head_dim, dim16 = dim / 16 * 16, dim8 = dim / 8 * 8;
    const size_t n = (size_t)a->entry_count;
    CK_KV_EACH_ENTRY(a, format, e, k, {
        __m256 acc0[CK_KV_MAX_GROUP], acc1[CK_KV_MAX_GROUP];
        for (int g = 0; g < G; g++) acc0[g] = acc1[g] = _mm256_setzero_ps();
        int d = 0;
        for (; d < dim16; d += 16) {
            const __m256 k0 = ck_kv_load8(k, d, format), k1 = ck_kv_load8(k, d + 8, format);
            for (int g = 0; g < G; g++) {
                acc0[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q + g * dim + d), k0, acc0[g]);
                acc1[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q + g * dim + d + 8), k1, acc1[g]);
            }
        }
        if (d < dim8) {
            const __m256 k0 = ck_kv_load8(k, d, format);
            for (int g = 0; g < G; g++) acc0[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q + g * dim + d), k0, acc0[g]);
            d += 8;
        }
        for (int g = 0; g < G; g++) {
            float s = ck_sum8_fold(_mm256_add_ps(acc0[g], acc1[g]));
            for (int t = d; t < dim; t++) s += q[g * dim + t] * ck_kv_element(k, t, format);
            scores[g * n + e] = s * scale;
        }
    });
}

/// Weighted sums of V for G query heads (a constant 1...4): each V row is loaded once for all G. A pass
/// keeps 32 output lanes per head in registers for one or two heads, 16 for three or four (16 registers).
CK_AI void ck_kv_weighted_sum_impl(float *out, const float *weights, const ck_kvargs *a, ck_kv_format format,
                                   const int G) {
    const int dim = a->head_dim, lanes = G <= 2 ? 32 : 16, regs = lanes / 8;
    const size_t n = (size_t)a->entry_count;
    int d0 = 0;
    for (; d0 + lanes <= dim; d0 += lanes) {
        __m256 acc[CK_KV_MAX_GROUP][4];
        for (int g = 0; g < G; g++)
            for (int j = 0; j < regs; j++) acc[g][j] = _mm256_setzero_ps();
        CK_KV_EACH_ENTRY(a, format, e, v, {
            __m256 vd[4];
            for (int j = 0; j < regs; j++) vd[j] = ck_kv_load8(v, d0 + 8 * j, format);
            for (int g = 0; g < G; g++) {
                const __m256 p = _mm256_set1_ps(weights[g * n + e]);
                for (int j = 0; j < regs; j++) acc[g][j] = _mm256_fmadd_ps(p, vd[j], acc[g][j]);
            }
        });
        for (int g = 0; g < G; g++)
            for (int j = 0; j < regs; j++) _mm256_storeu_ps(out + g * dim + d0 + 8 * j, acc[g][j]);
    }
    for (; d0 + 8 <= dim; d0 += 8) {
        __m256 acc[CK_KV_MAX_GROUP];
        for (int g = 0; g < G; g++) acc[g] = _mm256_setzero_ps();
        CK_KV_EACH_ENTRY(a, format, e, v, {
            const __m256 vd = ck_kv_load8(v, d0, format);
            for (int g = 0; g < G; g++) acc[g] = _mm256_fmadd_ps(_mm256_set1_ps(weights[g * n + e]), vd, acc[g]);
        });
        for (int g = 0; g < G; g++) _mm256_storeu_ps(out + g * dim + d0, acc[g]);
    }
    ck_kv_weighted_sum_tail(out, weights, a, format, G, d0);
}

// One instantiation per format and group size, so both are constants inside the loops.
void ck_kv_scores_avx2(float *scores, const float *q, int q_count, const ck_kvargs *a, float scale, ck_kv_format format) {
#define CK_CALL(F, G) ck_kv_scores_impl(scores, q, a, scale, F, G)
    CK_KV_DISPATCH(format, q_count, CK_CALL);
#undef CK_CALL
}

void ck_kv_weighted_sum_avx2(float *out, const float *weights, int q_count, const ck_kvargs *a, ck_kv_format format) {
#define CK_CALL(F, G) ck_kv_weighted_sum_impl(out, weights, a, F, G)
    CK_KV_DISPATCH(format, q_count, CK_CALL);
#undef CK_CALL
}

#pragma clang attribute pop
#endif
