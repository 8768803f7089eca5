// Quantized products, AVX2 path (vpmaddubsw: unsigned x signed bytes -> saturating int16 pairs).
//
// Q4 nibbles (0..15) go in as the unsigned operand directly; pairs stay far below int16 saturation.
// Q8_0 weights use the sign trick instead of an offset (|w| * sign(a, w)), because (w+128)*a pairs
// would saturate int16. One ymm holds one block; MR activation rows share each unpacked weight block.
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))
#include "ck_avx2.h"

CK_AI float ck_half(const uint8_t *p) { return _cvtsh_ss(ck_load_u16(p)); }

/// One weight row n against MR activation rows starting at m0.
CK_AI void ck_row_tile(const ck_qargs *a, const ck_qformat F, const int MR, int m0, int n) {
    const int nb = a->K / CK_QBLOCK;
    const size_t bb = ck_qformat_block_bytes(F);
    const uint8_t *row = a->w + (size_t)n * nb * bb;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc[4];
    float corr[4];
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        acc[m] = _mm256_setzero_ps();
        corr[m] = 0.0f;
    }
    for (int b = 0; b < nb; b++) {
        const uint8_t *block = row + (size_t)b * bb;
        const float dw = ck_half(block);
        float cw = 0.0f;
        __m256i w;
        if (F == CK_Q8_0) {
            w = _mm256_loadu_si256((const __m256i *)(block + 2));
        } else {
            __m128i q = _mm_loadu_si128((const __m128i *)(block + (F == CK_Q4_1 ? 4 : 2)));
            w = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), low4);
            cw = F == CK_Q4_1 ? ck_half(block + 2) : -8.0f * dw;
        }
        const __m256i wabs = F == CK_Q8_0 ? _mm256_sign_epi8(w, w) : w;
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            const size_t r = (size_t)(m0 + m);
            __m256i x = _mm256_loadu_si256((const __m256i *)(a->qs + r * a->K + (size_t)b * CK_QBLOCK));
            if (F == CK_Q8_0) x = _mm256_sign_epi8(x, w);
            __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, x), ones16);
            __m256 scale = _mm256_set1_ps(dw * a->d[r * nb + b]);
            acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc[m]);
            if (F != CK_Q8_0) corr[m] += cw * a->s[r * nb + b];
        }
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) a->y[(size_t)(m0 + m) * a->ldy + n] = ck_sum8_hadd(acc[m]) + corr[m];
}

typedef void (*ck_row_fn)(const ck_qargs *, int, int);

#define CK_ROW(F, NAME, MR) \
    static void ck_row_##NAME##_##MR(const ck_qargs *a, int m0, int n) { ck_row_tile(a, F, MR, m0, n); }
#define CK_ROWS(F, NAME) CK_ROW(F, NAME, 1) CK_ROW(F, NAME, 2) CK_ROW(F, NAME, 3) CK_ROW(F, NAME, 4)
CK_ROWS(CK_Q4_0, q4_0)
CK_ROWS(CK_Q4_1, q4_1)
CK_ROWS(CK_Q8_0, q8_0)

static const ck_row_fn ck_rows[3][4] = {
    {ck_row_q4_0_1, ck_row_q4_0_2, ck_row_q4_0_3, ck_row_q4_0_4},
    {ck_row_q4_1_1, ck_row_q4_1_2, ck_row_q4_1_3, ck_row_q4_1_4},
    {ck_row_q8_0_1, ck_row_q8_0_2, ck_row_q8_0_3, ck_row_q8_0_4},
};

void ck_qmatmul_avx2(const ck_qargs *a, int n_begin, int n_end) {
    const ck_row_fn *rows = ck_rows[a->format];
    CK_WALK_ROWS(a, n_begin, n_end, rows)
}

#pragma clang attribute pop
#endif
