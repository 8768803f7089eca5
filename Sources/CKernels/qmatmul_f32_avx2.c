// Quantized weights x float activations, AVX2 + FMA + F16C path.
//
// A block is decoded in two halves h = 0, 1, each giving two ymm of 8 floats: elements 8h..8h+7 and
// 16+8h..16+8h+7 (one 8-byte load of Q4 nibbles gives both). For each (row, column) the accumulator is
// one ymm that takes, per block and half, fma(w[8h..], x[8h..]) then fma(w[16+8h..], x[16+8h..]); one
// fixed reduction ends it. Tiles only interleave (row, column) pairs, so the bits never depend on the
// batch, the tile or the thread.
#include "qmatmul_f32_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))
#include "ck_avx2.h"

/// The fp16 at `p` in all 8 lanes (broadcast, then convert: no false dependency on an old register).
CK_AI __m256 ck_g_half_broadcast(const uint8_t *p) { return _mm256_cvtph_ps(_mm_set1_epi16((short)ck_load_u16(p))); }

CK_AI __m128i ck_g_load8(const uint8_t *p) {
    int64_t v;
    memcpy(&v, p, sizeof v);
    return _mm_cvtsi64_si128(v);
}

/// Half `h` of one block: elements 8h..8h+7 in `lo`, 16+8h..16+8h+7 in `hi`.
CK_AI void ck_g_decode(ck_qformat F, const uint8_t *block, int h, __m256 *lo, __m256 *hi) {
    const __m256 d = ck_g_half_broadcast(block);
    if (F == CK_Q8_0) {
        __m256i q0 = _mm256_cvtepi8_epi32(ck_g_load8(block + 2 + 8 * h));
        __m256i q1 = _mm256_cvtepi8_epi32(ck_g_load8(block + 18 + 8 * h));
        *lo = _mm256_mul_ps(_mm256_cvtepi32_ps(q0), d);
        *hi = _mm256_mul_ps(_mm256_cvtepi32_ps(q1), d);
        return;
    }
    const __m256i bytes = _mm256_cvtepu8_epi32(ck_g_load8(block + (F == CK_Q4_1 ? 4 : 2) + 8 * h));
    __m256i q0 = _mm256_and_si256(bytes, _mm256_set1_epi32(0x0F));
    __m256i q1 = _mm256_srli_epi32(bytes, 4);
    if (F == CK_Q4_1) {
        const __m256 m = ck_g_half_broadcast(block + 2);
        *lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q0), d, m);
        *hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q1), d, m);
    } else {
        const __m256i eight = _mm256_set1_epi32(8);
        *lo = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q0, eight)), d);
        *hi = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q1, eight)), d);
    }
}

/// The one reduction every tile uses.
/// y[m0..m0+MR][n0..n0+NR] over all of K.
CK_AI void ck_g_tile(const ck_qf32args *a, const ck_qformat F, const int MR, const int NR, int m0, int n0) {
    const size_t bb = ck_qformat_block_bytes(F);
    const int nb = a->K / CK_QBLOCK;
    const size_t row_bytes = (size_t)nb * bb;
    __m256 acc[4][2];
    const uint8_t *wrow[2];
    const float *xrow[4];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) wrow[n] = a->w + (size_t)(n0 + n) * row_bytes;
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        xrow[m] = a->x + (size_t)(m0 + m) * a->ldx;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) acc[m][n] = _mm256_setzero_ps();
    }
    for (int b = 0; b < nb; b++) {
#pragma clang loop unroll(full)
        for (int h = 0; h < 2; h++) {
            __m256 lo[2], hi[2];
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) ck_g_decode(F, wrow[n] + (size_t)b * bb, h, &lo[n], &hi[n]);
#pragma clang loop unroll(full)
            for (int m = 0; m < MR; m++) {
                const float *xp = xrow[m] + (size_t)b * CK_QBLOCK + 8 * h;
                const __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 16);
#pragma clang loop unroll(full)
                for (int n = 0; n < NR; n++) {
                    acc[m][n] = _mm256_fmadd_ps(lo[n], x0, acc[m][n]);
                    acc[m][n] = _mm256_fmadd_ps(hi[n], x1, acc[m][n]);
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        float *out = a->y + (size_t)(m0 + m) * a->ldy + n0;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) out[n] = ck_sum8_fold(acc[m][n]);
    }
}

typedef void (*ck_g_tile_fn)(const ck_qf32args *, int, int);

#define CK_G_TILE(F, NAME, MR, NR) \
    static void ck_g_tile_##NAME##_##MR##x##NR(const ck_qf32args *a, int m0, int n0) { ck_g_tile(a, F, MR, NR, m0, n0); }
#define CK_G_TILES(F, NAME) \
    CK_G_TILE(F, NAME, 1, 2) CK_G_TILE(F, NAME, 2, 2) CK_G_TILE(F, NAME, 3, 2) CK_G_TILE(F, NAME, 4, 2) \
    CK_G_TILE(F, NAME, 1, 1) CK_G_TILE(F, NAME, 2, 1) CK_G_TILE(F, NAME, 3, 1) CK_G_TILE(F, NAME, 4, 1)
CK_G_TILES(CK_Q4_0, q4_0)
CK_G_TILES(CK_Q4_1, q4_1)
CK_G_TILES(CK_Q8_0, q8_0)

#define CK_G_SET(NAME) \
    {{ck_g_tile_##NAME##_1x1, ck_g_tile_##NAME##_2x1, ck_g_tile_##NAME##_3x1, ck_g_tile_##NAME##_4x1}, \
     {ck_g_tile_##NAME##_1x2, ck_g_tile_##NAME##_2x2, ck_g_tile_##NAME##_3x2, ck_g_tile_##NAME##_4x2}}
/// [format][NR - 1][MR - 1]
static const ck_g_tile_fn ck_g_tiles[3][2][4] = {CK_G_SET(q4_0), CK_G_SET(q4_1), CK_G_SET(q8_0)};

void ck_qmatmul_f32_avx2(const ck_qf32args *a, int n_begin, int n_end) {
    const ck_g_tile_fn(*tiles)[4] = ck_g_tiles[a->format];
    for (int mb = 0; mb < a->M; mb += CK_M_BLOCK) {
        const int m_end = mb + CK_M_BLOCK < a->M ? mb + CK_M_BLOCK : a->M;
        int n = n_begin;
        for (; n + 2 <= n_end; n += 2) {
            for (int m = mb; m < m_end; m += 4) {
                const int rows = m_end - m < 4 ? m_end - m : 4;
                tiles[1][rows - 1](a, m, n);
            }
        }
        for (; n < n_end; n++) {
            for (int m = mb; m < m_end; m += 4) {
                const int rows = m_end - m < 4 ? m_end - m : 4;
                tiles[0][rows - 1](a, m, n);
            }
        }
    }
}

#pragma clang attribute pop
#endif
