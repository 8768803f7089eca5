// Quantized weights x float activations, AVX-512 path.
//
// A weight block is decoded once per register tile into two zmm of 16 floats (elements 0..15 and
// 16..31) and then multiplied into every activation row of the tile. For each (row, column) the
// accumulator is one zmm that takes, block after block, fma(w[0..15], x[0..15]) and then
// fma(w[16..31], x[16..31]); it is reduced to a float by one fixed function at the end. Tile shapes only
// interleave different (row, column) pairs, so the bits never depend on the batch, the tile or the thread.
#include "qmatmul_f32_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

/// The fp16 at `p` in all 16 lanes. Broadcast first, then convert: `_cvtsh_ss` inserts into a register
/// and ties every block's decode to the previous block's accumulators (a false dependency).
CK_AI __m512 ck_f_half_broadcast(const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_set1_epi16((short)ck_load_u16(p)));
}

/// The 32 weights of one block: elements 0..15 in `lo`, 16..31 in `hi`.
CK_AI void ck_f_decode(ck_qformat F, const uint8_t *block, __m512 *lo, __m512 *hi) {
    const __m512 d = ck_f_half_broadcast(block);
    if (F == CK_Q8_0) {
        __m512i q0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 2)));
        __m512i q1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 18)));
        *lo = _mm512_mul_ps(_mm512_cvtepi32_ps(q0), d);
        *hi = _mm512_mul_ps(_mm512_cvtepi32_ps(q1), d);
        return;
    }
    const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(block + (F == CK_Q4_1 ? 4 : 2))));
    __m512i q0 = _mm512_and_si512(bytes, _mm512_set1_epi32(0x0F));
    __m512i q1 = _mm512_srli_epi32(bytes, 4);
    if (F == CK_Q4_1) {
        const __m512 m = ck_f_half_broadcast(block + 2);
        *lo = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q0), d, m);
        *hi = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q1), d, m);
    } else {
        const __m512i eight = _mm512_set1_epi32(8);
        *lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q0, eight)), d);
        *hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q1, eight)), d);
    }
}

/// The one reduction every tile uses.
CK_AI float ck_f_sum16(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}

/// y[m0..m0+MR][n0..n0+NR] over all of K.
CK_AI void ck_f_tile(const ck_qf32args *a, const ck_qformat F, const int MR, const int NR, int m0, int n0) {
    const size_t bb = ck_qformat_block_bytes(F);
    const int nb = a->K / CK_QBLOCK;
    const size_t row_bytes = (size_t)nb * bb;
    __m512 acc[8][8];
    const uint8_t *wrow[8];
    const float *xrow[8];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) wrow[n] = a->w + (size_t)(n0 + n) * row_bytes;
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        xrow[m] = a->x + (size_t)(m0 + m) * a->ldx;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) acc[m][n] = _mm512_setzero_ps();
    }
    for (int b = 0; b < nb; b++) {
        __m512 lo[8], hi[8];
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) {
            // The next tile's rows follow these NR rows in memory: fetch them while this tile computes
            // (prefetches never fault, so running past the matrix is harmless).
            _mm_prefetch((const char *)(wrow[n] + (size_t)NR * row_bytes + (size_t)b * bb), _MM_HINT_T0);
            ck_f_decode(F, wrow[n] + (size_t)b * bb, &lo[n], &hi[n]);
        }
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            const float *xp = xrow[m] + (size_t)b * CK_QBLOCK;
            const __m512 x0 = _mm512_loadu_ps(xp), x1 = _mm512_loadu_ps(xp + 16);
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) {
                acc[m][n] = _mm512_fmadd_ps(lo[n], x0, acc[m][n]);
                acc[m][n] = _mm512_fmadd_ps(hi[n], x1, acc[m][n]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        float *out = a->y + (size_t)(m0 + m) * a->ldy + n0;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) out[n] = ck_f_sum16(acc[m][n]);
    }
}

typedef void (*ck_f_tile_fn)(const ck_qf32args *, int, int);

#define CK_F_TILE(F, NAME, MR, NR) \
    static void ck_f_tile_##NAME##_##MR##x##NR(const ck_qf32args *a, int m0, int n0) { ck_f_tile(a, F, MR, NR, m0, n0); }
#define CK_F_TILES(F, NAME) \
    CK_F_TILE(F, NAME, 1, 8) CK_F_TILE(F, NAME, 1, 4) CK_F_TILE(F, NAME, 2, 4) CK_F_TILE(F, NAME, 3, 4) CK_F_TILE(F, NAME, 4, 4) \
    CK_F_TILE(F, NAME, 1, 2) CK_F_TILE(F, NAME, 2, 2) CK_F_TILE(F, NAME, 3, 2) CK_F_TILE(F, NAME, 4, 2) \
    CK_F_TILE(F, NAME, 5, 2) CK_F_TILE(F, NAME, 6, 2) CK_F_TILE(F, NAME, 7, 2) CK_F_TILE(F, NAME, 8, 2) \
    CK_F_TILE(F, NAME, 1, 1) CK_F_TILE(F, NAME, 2, 1) CK_F_TILE(F, NAME, 3, 1) CK_F_TILE(F, NAME, 4, 1) \
    CK_F_TILE(F, NAME, 5, 1) CK_F_TILE(F, NAME, 6, 1) CK_F_TILE(F, NAME, 7, 1) CK_F_TILE(F, NAME, 8, 1)
CK_F_TILES(CK_Q4_0, q4_0)
CK_F_TILES(CK_Q4_1, q4_1)
CK_F_TILES(CK_Q8_0, q8_0)

/// Tiles of one format: 8 columns x 1 row (one row), 4 columns x 1..4 rows (few rows), 2 x 1..8 and 1 x 1..8 (tails, batches).
typedef struct {
    ck_f_tile_fn wide8;
    ck_f_tile_fn wide4[4];
    ck_f_tile_fn wide2[8];
    ck_f_tile_fn single[8];
} ck_f_tile_set;

#define CK_F_SET(NAME) \
    {ck_f_tile_##NAME##_1x8, \
     {ck_f_tile_##NAME##_1x4, ck_f_tile_##NAME##_2x4, ck_f_tile_##NAME##_3x4, ck_f_tile_##NAME##_4x4}, \
     {ck_f_tile_##NAME##_1x2, ck_f_tile_##NAME##_2x2, ck_f_tile_##NAME##_3x2, ck_f_tile_##NAME##_4x2, \
      ck_f_tile_##NAME##_5x2, ck_f_tile_##NAME##_6x2, ck_f_tile_##NAME##_7x2, ck_f_tile_##NAME##_8x2}, \
     {ck_f_tile_##NAME##_1x1, ck_f_tile_##NAME##_2x1, ck_f_tile_##NAME##_3x1, ck_f_tile_##NAME##_4x1, \
      ck_f_tile_##NAME##_5x1, ck_f_tile_##NAME##_6x1, ck_f_tile_##NAME##_7x1, ck_f_tile_##NAME##_8x1}}
static const ck_f_tile_set ck_f_sets[3] = {CK_F_SET(q4_0), CK_F_SET(q4_1), CK_F_SET(q8_0)};

void ck_qmatmul_f32_avx512(const ck_qf32args *a, int n_begin, int n_end) {
    const ck_f_tile_set *set = &ck_f_sets[a->format];
    for (int mb = 0; mb < a->M; mb += CK_M_BLOCK) {
        const int m_end = mb + CK_M_BLOCK < a->M ? mb + CK_M_BLOCK : a->M;
        // Up to 4 rows: 4-column tiles (each row's x stays in registers' reach, 16 accumulators).
        // More rows: 8-row x 2-column tiles, so each decoded block feeds 8 rows.
        const int few = m_end - mb <= 4;
        const int nr = few ? 4 : 2, mr = few ? 4 : 8;
        const ck_f_tile_fn *tiles = few ? set->wide4 : set->wide2;
        int n = n_begin;
        if (m_end - mb == 1) {
            for (; n + 8 <= n_end; n += 8) set->wide8(a, mb, n);
        }
        for (; n + nr <= n_end; n += nr) {
            for (int m = mb; m < m_end; m += mr) {
                const int rows = m_end - m < mr ? m_end - m : mr;
                tiles[rows - 1](a, m, n);
            }
        }
        for (; n < n_end; n++) {
            for (int m = mb; m < m_end; m += 8) {
                const int rows = m_end - m < 8 ? m_end - m : 8;
                set->single[rows - 1](a, m, n);
            }
        }
    }
}

#pragma clang attribute pop
#endif
