// Activation quantization, AVX2 path (bit-identical to the scalar path).
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

void ck_quantize_rows_avx2(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols) {
    int nb = cols / CK_QBLOCK;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        int8_t *qr = qs + (size_t)r * cols;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * CK_QBLOCK;
            __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
            __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
            __m256 m = _mm256_setzero_ps();
            m = _mm256_max_ps(_mm256_and_ps(v0, abs_mask), m);
            m = _mm256_max_ps(_mm256_and_ps(v1, abs_mask), m);
            m = _mm256_max_ps(_mm256_and_ps(v2, abs_mask), m);
            m = _mm256_max_ps(_mm256_and_ps(v3, abs_mask), m);
            __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            h = _mm_max_ss(h, _mm_movehdup_ps(h));
            float amax = _mm_cvtss_f32(h);
            float scale = amax / 127.0f;
            float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
            __m256 iv = _mm256_set1_ps(inverse);
            __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, iv));
            __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, iv));
            __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, iv));
            __m256i q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, iv));
            __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            // packs work per 128-bit lane: the permute restores element order.
            __m256i p01 = _mm256_packs_epi32(q0, q1);
            __m256i p23 = _mm256_packs_epi32(q2, q3);
            __m256i p = _mm256_packs_epi16(p01, p23);
            p = _mm256_permutevar8x32_epi32(p, order);
            _mm256_storeu_si256((__m256i *)(qr + b * CK_QBLOCK), p);
            d[(size_t)r * nb + b] = scale;
            s[(size_t)r * nb + b] = scale * (float)_mm_cvtsi128_si32(s4);
        }
    }
}

#pragma clang attribute pop
#endif
