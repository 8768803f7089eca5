// Activation quantization, AVX-512 path (bit-identical to the scalar path).
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl"))), apply_to = function)

void ck_quantize_rows_avx512(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols) {
    int nb = cols / CK_QBLOCK;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        int8_t *qr = qs + (size_t)r * cols;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * CK_QBLOCK;
            __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
            __m512 m = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps());
            m = _mm512_max_ps(_mm512_abs_ps(v1), m);
            float amax = _mm512_reduce_max_ps(m);
            float scale = amax / 127.0f;
            float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
            __m512 iv = _mm512_set1_ps(inverse);
            __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, iv));
            __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, iv));
            int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            _mm_storeu_si128((__m128i *)(qr + b * CK_QBLOCK), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(qr + b * CK_QBLOCK + 16), _mm512_cvtepi32_epi8(q1));
            d[(size_t)r * nb + b] = scale;
            s[(size_t)r * nb + b] = scale * (float)sum;
        }
    }
}

void ck_quantize_rows_q8x2_avx512(int8_t *hi, int8_t *lo, float *d, float *s, const float *x, size_t ldx, int rows,
                                  int cols) {
    const int nb = cols / CK_QBLOCK;
    const float top = (float)CK_Q8X2_MAX;
    const __m512i limit = _mm512_set1_epi32(CK_Q8X2_MAX), seven_bits = _mm512_set1_epi32(127);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * CK_QBLOCK;
            const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
            __m512 m = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps());
            m = _mm512_max_ps(_mm512_abs_ps(v1), m);
            const float amax = _mm512_reduce_max_ps(m);
            const float scale = amax / top, inverse = amax > 0.0f ? top / amax : 0.0f;
            const __m512 iv = _mm512_set1_ps(inverse);
            const size_t at = (size_t)r * cols + (size_t)b * CK_QBLOCK;
            int sum = 0;
            const __m512 halves[2] = {v0, v1};
            for (int h = 0; h < 2; h++) {
                // Rounded half to even as the scalar path; finite input stays within +-16256.
                __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(halves[h], iv));
                q = _mm512_max_epi32(_mm512_min_epi32(q, limit), _mm512_sub_epi32(_mm512_setzero_si512(), limit));
                const __m512i low = _mm512_and_si512(q, seven_bits);
                const __m512i high = _mm512_srai_epi32(_mm512_sub_epi32(q, low), 7);
                _mm_storeu_si128((__m128i *)(hi + at + 16 * h), _mm512_cvtepi32_epi8(high));
                _mm_storeu_si128((__m128i *)(lo + at + 16 * h), _mm512_cvtepi32_epi8(low));
                sum += _mm512_reduce_add_epi32(q);
            }
            d[(size_t)r * nb + b] = scale;
            s[(size_t)r * nb + b] = scale * (float)sum;
        }
    }
}

#pragma clang attribute pop
#endif
