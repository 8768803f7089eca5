// Quantized products, AVX-512 VNNI path.
//
// vpdpbusd multiplies unsigned bytes by signed bytes, so the weights are made unsigned and the
// activations stay signed int8: Q4 nibbles are already 0..15, and Q8_0 bytes are offset by +128
// (w ^ 0x80). The offsets come back out through the activation block sums s = d*sum(q):
//   Q4_1: d_w*d_a*dot(q_w, q_a) + m_w*s_a
//   Q4_0: d_w*d_a*dot(q_w, q_a) - 8*d_w*s_a
//   Q8_0: d_w*d_a*dot(q_w + 128, q_a) - 128*d_w*s_a
// One zmm holds two blocks (64 bytes). A register tile of MR activation rows x NR weight rows unpacks
// each weight pair once for MR rows and loads each activation pair once for NR weight rows.
#include "ck_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), \
                             apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

typedef struct {
    const uint8_t *w;
    size_t row_bytes;
    const int8_t *qs;
    const float *d;
    const float *s;
    int K, nb;
    float *y;
    size_t ldy;
} ck_tile_ctx;

/// Two consecutive weight blocks as 64 unsigned bytes in element order.
CK_AI __m512i ck_load_weight_pair(ck_qformat F, const uint8_t *b0, const uint8_t *b1) {
    if (F == CK_Q8_0) {
        __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b0 + 2)));
        v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)(b1 + 2)), 1);
        return _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
    }
    const int offset = F == CK_Q4_1 ? 4 : 2;
    // Lanes: [b0 nibbles, b0 nibbles, b1 nibbles, b1 nibbles]; lanes 1 and 3 take the high nibbles.
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(b0 + offset)));
    v = _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128((const __m128i *)(b1 + offset)));
    const long long four = 0x0004000400040004LL;
    v = _mm512_srlv_epi16(v, _mm512_set_epi64(four, four, 0, 0, four, four, 0, 0));
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

/// The first u32 of each of up to 16 consecutive blocks (fp16 d, then fp16 m for Q4_1), one per
/// 32-bit lane; lanes at or past `count` are 0. Gathers are slow on Zen, so the blocks are loaded as
/// contiguous 128-byte windows (masked to the `count` blocks, never past them) and the words picked out
/// with vpermt2w.
CK_AI __m512i ck_load_scale_words(ck_qformat F, const uint8_t *first, int count) {
    const int wpb = (int)ck_qformat_block_bytes(F) / 2;  // 16-bit words per block
    const int valid = count * wpb;               // words that belong to the `count` blocks
    const __m512i lane = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13,
                                          12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    // Word 2i of the result is word wpb*i of the chunk (d_i); word 2i+1 is the next word (m_i).
    const __m512i source = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_srli_epi16(lane, 1), _mm512_set1_epi16((short)wpb)),
                                            _mm512_and_si512(lane, _mm512_set1_epi16(1)));
    const __mmask32 wanted = count >= 16 ? 0xFFFFFFFFu : (__mmask32)((1ull << (2 * count)) - 1);
    __m512i words = _mm512_setzero_si512();
#pragma clang loop unroll(full)
    for (int w = 0; w < 4; w++) {
        // Window w holds words [64w, 64w+64) of the chunk; skip windows no block of this format starts in.
        if (64 * w > 15 * wpb) break;
        if (64 * w >= valid) break;
        const int left = valid - 64 * w;
        const __mmask32 lo = left >= 32 ? 0xFFFFFFFFu : (__mmask32)((1ull << left) - 1);
        const __mmask32 hi = left >= 64 ? 0xFFFFFFFFu : left <= 32 ? 0 : (__mmask32)((1ull << (left - 32)) - 1);
        __m512i a = _mm512_maskz_loadu_epi16(lo, (const uint16_t *)first + 64 * w);
        __m512i b = _mm512_maskz_loadu_epi16(hi, (const uint16_t *)first + 64 * w + 32);
        __m512i local = _mm512_sub_epi16(source, _mm512_set1_epi16((short)(64 * w)));
        // Result words whose source lies in this window: 0 <= local < 64.
        __mmask32 here = _mm512_cmplt_epu16_mask(local, _mm512_set1_epi16(64)) & wanted;
        words = _mm512_mask_mov_epi16(words, here, _mm512_permutex2var_epi16(a, local, b));
    }
    return words;
}

/// Scales of up to 16 consecutive blocks (lanes past `count` are 0): `dw` = d, `cw` = the coefficient
/// of the activation block sum (m for Q4_1, -8d for Q4_0, -128d for Q8_0).
CK_AI void ck_load_scales(ck_qformat F, const uint8_t *first, int count, __m512 *dw, __m512 *cw) {
    __m512i words = ck_load_scale_words(F, first, count);
    __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(words));
    *dw = d;
    if (F == CK_Q4_1) {
        *cw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(words, 16)));
    } else {
        *cw = _mm512_mul_ps(d, _mm512_set1_ps(F == CK_Q4_0 ? -8.0f : -128.0f));
    }
}

CK_AI __m128 ck_reduce_to128(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/// Sums of four vectors, in the same order as `ck_reduce1` (so tile shape never changes a result).
CK_AI __m128 ck_reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m128 ab = _mm_hadd_ps(ck_reduce_to128(a), ck_reduce_to128(b));
    __m128 cd = _mm_hadd_ps(ck_reduce_to128(c), ck_reduce_to128(d));
    return _mm_hadd_ps(ab, cd);
}

CK_AI float ck_reduce1(__m512 a) {
    __m128 h = ck_reduce_to128(a);
    h = _mm_hadd_ps(h, h);
    h = _mm_hadd_ps(h, h);
    return _mm_cvtss_f32(h);
}

/// One step of a tile: blocks `block` and `block + 1` (only `block` when `single`) of every row, with
/// `index` picking [block j's scale x8 | block j+1's scale x8] out of a 16-block scale vector. With one
/// activation row, `scale[n]` holds the products d_w*d_a for the chunk; with more, the product is
/// formed per step from `dw[n]` and `da[m]` (too few registers to keep every product). Both give the
/// same floats in the same order, so a row's result never depends on the batch or tile it is in.
CK_AI void ck_tile_step(ck_qformat F, const int MR, const int NR, const int single, int j, int block,
                        const uint8_t *const *wrow, const int8_t *const *arow, const __m512 *dw, const __m512 *da,
                        const __m512 *scale, __m512 acc[4][4]) {
    const size_t bb = ck_qformat_block_bytes(F);
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(2 * j),
                                           _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    __m512i w[4];
    __m512 dwe[4];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) {
        const uint8_t *p0 = wrow[n] + (size_t)block * bb;
        w[n] = ck_load_weight_pair(F, p0, single ? p0 : p0 + bb);
        dwe[n] = _mm512_permutexvar_ps(index, MR == 1 ? scale[n] : dw[n]);
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        const int8_t *ap = arow[m] + (size_t)block * CK_QBLOCK;
        __m512i a = single ? _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)ap))
                           : _mm512_loadu_si512((const void *)ap);
        __m512 dae = MR == 1 ? dwe[0] : _mm512_permutexvar_ps(index, da[m]);
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) {
            __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[n], a);
            __m512 s = MR == 1 ? dwe[n] : _mm512_mul_ps(dwe[n], dae);
            acc[m][n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), s, acc[m][n]);
        }
    }
}

/// y[m0..m0+MR][n0..n0+NR] over all of K.
CK_AI void ck_tile(const ck_tile_ctx *c, const ck_qformat F, const int MR, const int NR, int m0, int n0) {
    const size_t bb = ck_qformat_block_bytes(F);
    const int nb = c->nb;
    __m512 acc[4][4];
    const uint8_t *wrow[4];
    const int8_t *arow[4];
    const float *drow[4], *srow[4];
#pragma clang loop unroll(full)
    for (int n = 0; n < NR; n++) wrow[n] = c->w + (size_t)(n0 + n) * c->row_bytes;
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        arow[m] = c->qs + (size_t)(m0 + m) * c->K;
        drow[m] = c->d + (size_t)(m0 + m) * nb;
        srow[m] = c->s + (size_t)(m0 + m) * nb;
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) acc[m][n] = _mm512_setzero_ps();
    }
    for (int b0 = 0; b0 < nb; b0 += 16) {
        const int count = nb - b0 < 16 ? nb - b0 : 16;
        const __mmask16 mask = (__mmask16)(count == 16 ? 0xFFFFu : (1u << count) - 1u);
        __m512 dw[4], cw[4], da[4], scale[4];
#pragma clang loop unroll(full)
        for (int n = 0; n < NR; n++) ck_load_scales(F, wrow[n] + (size_t)b0 * bb, count, &dw[n], &cw[n]);
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            da[m] = _mm512_maskz_loadu_ps(mask, drow[m] + b0);
            __m512 sa = _mm512_maskz_loadu_ps(mask, srow[m] + b0);
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) acc[m][n] = _mm512_fmadd_ps(cw[n], sa, acc[m][n]);
        }
        if (MR == 1) {
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) scale[n] = _mm512_mul_ps(dw[n], da[0]);
        }
        const int pairs = count / 2;
        for (int j = 0; j < pairs; j++) {
            ck_tile_step(F, MR, NR, 0, j, b0 + 2 * j, wrow, arow, dw, da, scale, acc);
        }
        if (count & 1) ck_tile_step(F, MR, NR, 1, pairs, b0 + 2 * pairs, wrow, arow, dw, da, scale, acc);
    }
#pragma clang loop unroll(full)
    for (int m = 0; m < MR; m++) {
        float *out = c->y + (size_t)(m0 + m) * c->ldy + n0;
        if (NR == 4) {
            _mm_storeu_ps(out, ck_reduce4(acc[m][0], acc[m][1], acc[m][2], acc[m][3]));
        } else {
#pragma clang loop unroll(full)
            for (int n = 0; n < NR; n++) out[n] = ck_reduce1(acc[m][n]);
        }
    }
}

typedef void (*ck_tile_fn)(const ck_tile_ctx *, int, int);

#define CK_TILE(F, NAME, MR, NR) \
    static void ck_tile_##NAME##_##MR##x##NR(const ck_tile_ctx *c, int m0, int n0) { ck_tile(c, F, MR, NR, m0, n0); }
#define CK_TILES(F, NAME) \
    CK_TILE(F, NAME, 1, 1) CK_TILE(F, NAME, 2, 1) CK_TILE(F, NAME, 3, 1) CK_TILE(F, NAME, 4, 1) \
    CK_TILE(F, NAME, 1, 4) CK_TILE(F, NAME, 2, 4) CK_TILE(F, NAME, 3, 4) CK_TILE(F, NAME, 4, 4)
CK_TILES(CK_Q4_0, q4_0)
CK_TILES(CK_Q4_1, q4_1)
CK_TILES(CK_Q8_0, q8_0)

#define CK_TILE_ROW(NAME) \
    {{ck_tile_##NAME##_1x1, ck_tile_##NAME##_2x1, ck_tile_##NAME##_3x1, ck_tile_##NAME##_4x1}, \
     {ck_tile_##NAME##_1x4, ck_tile_##NAME##_2x4, ck_tile_##NAME##_3x4, ck_tile_##NAME##_4x4}}
/// [format][NR == 4][MR - 1]
static const ck_tile_fn ck_tiles[3][2][4] = {CK_TILE_ROW(q4_0), CK_TILE_ROW(q4_1), CK_TILE_ROW(q8_0)};

void ck_qmatmul_avx512(const ck_qargs *a, int n_begin, int n_end) {
    ck_tile_ctx c;
    c.w = a->w;
    c.nb = a->K / CK_QBLOCK;
    c.row_bytes = (size_t)c.nb * ck_qformat_block_bytes(a->format);
    c.qs = a->qs;
    c.d = a->d;
    c.s = a->s;
    c.K = a->K;
    c.y = a->y;
    c.ldy = a->ldy;
    const ck_tile_fn(*tiles)[4] = ck_tiles[a->format];
    for (int mb = 0; mb < a->M; mb += CK_M_BLOCK) {
        int m_end = mb + CK_M_BLOCK < a->M ? mb + CK_M_BLOCK : a->M;
        int n = n_begin;
        for (; n + 4 <= n_end; n += 4) {
            for (int m = mb; m < m_end; m += 4) {
                int rows = m_end - m < 4 ? m_end - m : 4;
                tiles[1][rows - 1](&c, m, n);
            }
        }
        for (; n < n_end; n++) {
            for (int m = mb; m < m_end; m += 4) {
                int rows = m_end - m < 4 ? m_end - m : 4;
                tiles[0][rows - 1](&c, m, n);
            }
        }
    }
}

#pragma clang attribute pop
#endif
