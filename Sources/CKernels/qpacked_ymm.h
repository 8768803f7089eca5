// The packed int8 product on 256-bit registers, written once for two paths: each includer defines
// CK_P_YMM_VNNI (1: AVX-VNNI's VEX vpdpbusd; 0: AVX2's vpmaddubsw + vpmaddwd), CK_P_YMM_ENTRY (the
// entry point's name) and opens the matching target pragma. A 64-byte chunk is two ymm halves: rows
// 0..7, then rows 8..15, one 32-bit lane per row.
//
// Per (row m, half, block): the block's integer dot product is converted to float and fused into `accd`
// with d_w * d_x; m_w * s_x goes into `accm` (AVX2 on Q8_0 instead takes the signed dot product, q
// rather than q + 128, and no m term: the same value, since m = -128 d). The order does not depend on M,
// the tile or the thread.
#include <immintrin.h>

#define CK_AI static inline __attribute__((always_inline))

CK_AI __m256i ck_y_bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

#if CK_P_YMM_VNNI
/// acc + the 8 lanes' sums of 4 u8 x s8 products.
CK_AI __m256i ck_y_dot(__m256i acc, __m256i u, __m256i x) { return _mm256_dpbusd_avx_epi32(acc, u, x); }
#endif

/// Groups [g0, g1) for MR (1 or 2) activation rows from m0; NIB: 4-bit quants (else bytes); D: activation
/// digits (1 or 2: the block's dot product is 128 * (w . high) + w . low).
CK_AI void ck_y_tile(const ck_pargs *a, const int NIB, const int D, const int MR, int m0, int g0, int g1) {
    const int nb = a->K / CK_QBLOCK;
    const size_t tb = NIB ? CK_PACK_HEADER_BYTES + 4 * CK_PACK_CHUNK_BYTES : CK_PACK_HEADER_BYTES + 8 * CK_PACK_CHUNK_BYTES;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
#if !CK_P_YMM_VNNI
    const __m256i ones16 = _mm256_set1_epi16(1);
    const __m256i sign_bit = _mm256_set1_epi8((char)0x80);
#endif
    for (int g = g0; g < g1; g++) {
        const uint8_t *tiles = a->packed + (size_t)g * nb * tb;
        __m256 accd[2][2], accm[2][2];
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++)
            for (int h = 0; h < 2; h++) accd[m][h] = accm[m][h] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *tile = tiles + (size_t)b * tb;
            _mm_prefetch((const char *)(tile + 4 * tb), _MM_HINT_T0);
            _mm_prefetch((const char *)(tile + 4 * tb + 64 * 4), _MM_HINT_T0);
            const uint8_t *quants = tile + CK_PACK_HEADER_BYTES;
            __m256i dot[2][2], low[2][2];
#pragma clang loop unroll(full)
            for (int h = 0; h < 2; h++) {
#if CK_P_YMM_VNNI
#pragma clang loop unroll(full)
                for (int m = 0; m < MR; m++) dot[m][h] = low[m][h] = _mm256_setzero_si256();
                if (NIB) {
#pragma clang loop unroll(full)
                    for (int p = 0; p < 4; p++) {
                        const __m256i v = _mm256_load_si256((const __m256i *)(quants + p * CK_PACK_CHUNK_BYTES + 32 * h));
                        const __m256i lo = _mm256_and_si256(v, low4);
                        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#pragma clang loop unroll(full)
                        for (int m = 0; m < MR; m++) {
                            const size_t at = (size_t)(m0 + m) * a->K + (size_t)b * CK_QBLOCK;
                            const int8_t *x = a->qs + at;
                            dot[m][h] = ck_y_dot(dot[m][h], lo, ck_y_bcast4(x + 4 * p));
                            dot[m][h] = ck_y_dot(dot[m][h], hi, ck_y_bcast4(x + 16 + 4 * p));
                            if (D == 2) {
                                const int8_t *xl = a->qs_lo + at;
                                low[m][h] = ck_y_dot(low[m][h], lo, ck_y_bcast4(xl + 4 * p));
                                low[m][h] = ck_y_dot(low[m][h], hi, ck_y_bcast4(xl + 16 + 4 * p));
                            }
                        }
                    }
                } else {
#pragma clang loop unroll(full)
                    for (int c = 0; c < 8; c++) {
                        const __m256i v = _mm256_load_si256((const __m256i *)(quants + c * CK_PACK_CHUNK_BYTES + 32 * h));
#pragma clang loop unroll(full)
                        for (int m = 0; m < MR; m++) {
                            const size_t at = (size_t)(m0 + m) * a->K + (size_t)b * CK_QBLOCK;
                            dot[m][h] = ck_y_dot(dot[m][h], v, ck_y_bcast4(a->qs + at + 4 * c));
                            if (D == 2) low[m][h] = ck_y_dot(low[m][h], v, ck_y_bcast4(a->qs_lo + at + 4 * c));
                        }
                    }
                }
#else
                if (NIB) {
                    // u4 x s8 pairs: |2 * 15 * 127| per vpmaddubsw lane, 8 of them fit an int16 (30480).
                    __m256i sum16[2], low16[2];
#pragma clang loop unroll(full)
                    for (int m = 0; m < MR; m++) sum16[m] = low16[m] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
                    for (int p = 0; p < 4; p++) {
                        const __m256i v = _mm256_load_si256((const __m256i *)(quants + p * CK_PACK_CHUNK_BYTES + 32 * h));
                        const __m256i lo = _mm256_and_si256(v, low4);
                        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#pragma clang loop unroll(full)
                        for (int m = 0; m < MR; m++) {
                            const size_t at = (size_t)(m0 + m) * a->K + (size_t)b * CK_QBLOCK;
                            const int8_t *x = a->qs + at;
                            sum16[m] = _mm256_add_epi16(sum16[m], _mm256_maddubs_epi16(lo, ck_y_bcast4(x + 4 * p)));
                            sum16[m] = _mm256_add_epi16(sum16[m], _mm256_maddubs_epi16(hi, ck_y_bcast4(x + 16 + 4 * p)));
                            if (D == 2) {  // low digits are 0...127: the same bound
                                const int8_t *xl = a->qs_lo + at;
                                low16[m] = _mm256_add_epi16(low16[m], _mm256_maddubs_epi16(lo, ck_y_bcast4(xl + 4 * p)));
                                low16[m] = _mm256_add_epi16(low16[m], _mm256_maddubs_epi16(hi, ck_y_bcast4(xl + 16 + 4 * p)));
                            }
                        }
                    }
#pragma clang loop unroll(full)
                    for (int m = 0; m < MR; m++) {
                        dot[m][h] = _mm256_madd_epi16(sum16[m], ones16);
                        low[m][h] = _mm256_madd_epi16(low16[m], ones16);
                    }
                } else {
                    // Signed q (the sign bit flipped back) through |q| and sign(x, q): one vpmaddubsw
                    // lane is at most 2 * 128 * 127, so each chunk widens to int32 on its own.
#pragma clang loop unroll(full)
                    for (int m = 0; m < MR; m++) dot[m][h] = low[m][h] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
                    for (int c = 0; c < 8; c++) {
                        const __m256i q = _mm256_xor_si256(
                            _mm256_load_si256((const __m256i *)(quants + c * CK_PACK_CHUNK_BYTES + 32 * h)), sign_bit);
                        const __m256i magnitude = _mm256_sign_epi8(q, q);
#pragma clang loop unroll(full)
                        for (int m = 0; m < MR; m++) {
                            const size_t at = (size_t)(m0 + m) * a->K + (size_t)b * CK_QBLOCK;
                            const __m256i signed_x = _mm256_sign_epi8(ck_y_bcast4(a->qs + at + 4 * c), q);
                            dot[m][h] = _mm256_add_epi32(dot[m][h],
                                                         _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_x), ones16));
                            if (D == 2) {
                                const __m256i signed_low = _mm256_sign_epi8(ck_y_bcast4(a->qs_lo + at + 4 * c), q);
                                low[m][h] = _mm256_add_epi32(low[m][h],
                                                             _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_low), ones16));
                            }
                        }
                    }
                }
#endif
            }
#pragma clang loop unroll(full)
            for (int h = 0; h < 2; h++) {
                const __m256 dw = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + 16 * h)));
                const __m256 mw = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(tile + 32 + 16 * h)));
#pragma clang loop unroll(full)
                for (int m = 0; m < MR; m++) {
                    const size_t sb = (size_t)(m0 + m) * nb + b;
                    const __m256i sum = D == 2 ? _mm256_add_epi32(_mm256_slli_epi32(dot[m][h], 7), low[m][h]) : dot[m][h];
                    accd[m][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum),
                                                 _mm256_mul_ps(dw, _mm256_set1_ps(a->d[sb])), accd[m][h]);
#if !CK_P_YMM_VNNI
                    if (NIB)
#endif
                        accm[m][h] = _mm256_fmadd_ps(mw, _mm256_set1_ps(a->s[sb]), accm[m][h]);
                }
            }
        }
        const int rows = ck_pack_group_rows(a, g);
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            float *out = a->y + (size_t)(m0 + m) * a->ldy + (size_t)g * CK_PACK_ROWS;
            if (rows == CK_PACK_ROWS) {
                _mm256_storeu_ps(out, _mm256_add_ps(accd[m][0], accm[m][0]));
                _mm256_storeu_ps(out + 8, _mm256_add_ps(accd[m][1], accm[m][1]));
            } else {
                float all[CK_PACK_ROWS];
                _mm256_storeu_ps(all, _mm256_add_ps(accd[m][0], accm[m][0]));
                _mm256_storeu_ps(all + 8, _mm256_add_ps(accd[m][1], accm[m][1]));
                for (int r = 0; r < rows; r++) out[r] = all[r];
            }
        }
    }
}

static void ck_y_nib_1(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 1, 1, 1, m0, g0, g1); }
static void ck_y_nib_2(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 1, 1, 2, m0, g0, g1); }
static void ck_y_byte_1(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 0, 1, 1, m0, g0, g1); }
static void ck_y_byte_2(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 0, 1, 2, m0, g0, g1); }
static void ck_y_nib2_1(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 1, 2, 1, m0, g0, g1); }
static void ck_y_nib2_2(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 1, 2, 2, m0, g0, g1); }
static void ck_y_byte2_1(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 0, 2, 1, m0, g0, g1); }
static void ck_y_byte2_2(const ck_pargs *a, int m0, int g0, int g1) { ck_y_tile(a, 0, 2, 2, m0, g0, g1); }

typedef void (*ck_y_tile_fn)(const ck_pargs *, int, int, int);
/// [digits - 1][nibbles][rows - 1]
static const ck_y_tile_fn ck_y_tiles[2][2][2] = {
    {{ck_y_byte_1, ck_y_byte_2}, {ck_y_nib_1, ck_y_nib_2}},
    {{ck_y_byte2_1, ck_y_byte2_2}, {ck_y_nib2_1, ck_y_nib2_2}},
};

void CK_P_YMM_ENTRY(const ck_pargs *a, int g_begin, int g_end) {
    const ck_y_tile_fn *tiles = ck_y_tiles[a->qs_lo != NULL][a->format != CK_Q8_0];
    for (int mb = 0; mb < a->M; mb += CK_M_BLOCK) {
        const int m_end = mb + CK_M_BLOCK < a->M ? mb + CK_M_BLOCK : a->M;
        if (m_end - mb <= 2) {
            tiles[m_end - mb - 1](a, mb, g_begin, g_end);
            continue;
        }
        for (int g = g_begin; g < g_end; g++)
            for (int m = mb; m < m_end; m += 2) tiles[(m_end - m < 2 ? m_end - m : 2) - 1](a, m, g, g + 1);
    }
}
