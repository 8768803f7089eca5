// AVX2 helpers shared by the *_avx2.c kernels. Include it after the file's
// `#pragma clang attribute push(target("avx2,fma,f16c"))` so the helpers are compiled for AVX2 and inline
// into the kernels. Two horizontal sums with different addition orders: each kernel keeps the one it
// was written (and its golden bits checked) with.
#ifndef CK_AVX2_H
#define CK_AVX2_H

#include <immintrin.h>

#ifndef CK_AI
#define CK_AI static inline __attribute__((always_inline))
#endif

/// Sum of the 8 lanes: halves added, then two horizontal adds.
CK_AI float ck_sum8_hadd(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_hadd_ps(h, h);
    h = _mm_hadd_ps(h, h);
    return _mm_cvtss_f32(h);
}

/// Sum of the 8 lanes: halves added, then the high pair folded onto the low pair, then lane 1 onto 0.
CK_AI float ck_sum8_fold(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

#endif
