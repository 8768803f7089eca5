// Packed int8 products, AVX-512 VNNI path: one zmm lane per weight row of a group, so each vpdpbusd
// of a 64-byte chunk against 4 broadcast activation bytes advances 16 rows' dot products at once.
//
// Per (row m, group, block): two int32 accumulators (low and high nibbles, or even and odd chunks) per
// activation digit are added (two digits: 128 * high + low), converted to float and fused into `accd` with d_w * d_x; m_w * s_x goes into `accm`; the output
// is accd + accm. The order is the same for every M, tile and thread.
#include "qpacked_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"))), apply_to = function)

#define CK_AI static inline __attribute__((always_inline))

/// The 4 activation bytes at `p` in every 32-bit lane.
CK_AI __m512i ck_p_bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/// Groups [g0, g1) for MR activation rows starting at m0; NIB: 4-bit quants (else bytes); D: activation
/// digits (1 or 2).
CK_AI void ck_p_tile(const ck_pargs *a, const int NIB, const int D, const int MR, int m0, int g0, int g1) {
    const int nb = a->K / CK_QBLOCK;
    const size_t tb = NIB ? CK_PACK_HEADER_BYTES + 4 * CK_PACK_CHUNK_BYTES : CK_PACK_HEADER_BYTES + 8 * CK_PACK_CHUNK_BYTES;
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int g = g0; g < g1; g++) {
        const uint8_t *tiles = a->packed + (size_t)g * nb * tb;
        __m512 accd[4], accm[4];
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) accd[m] = accm[m] = _mm512_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const uint8_t *tile = tiles + (size_t)b * tb;
            // The stream is sequential; fetching a few tiles ahead keeps it ahead of the arithmetic.
            _mm_prefetch((const char *)(tile + 4 * tb), _MM_HINT_T0);
            _mm_prefetch((const char *)(tile + 4 * tb + 64 * 4), _MM_HINT_T0);
            const uint8_t *quants = tile + CK_PACK_HEADER_BYTES;
            __m512i dot0[4], dot1[4], low0[4], low1[4];
#pragma clang loop unroll(full)
            for (int m = 0; m < MR; m++) dot0[m] = dot1[m] = low0[m] = low1[m] = _mm512_setzero_si512();
            if (NIB) {
#pragma clang loop unroll(full)
                for (int p = 0; p < 4; p++) {
                    const __m512i v = _mm512_load_si512((const void *)(quants + p * CK_PACK_CHUNK_BYTES));
                    const __m512i lo = _mm512_and_si512(v, low4);
                    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
#pragma clang loop unroll(full)
                    for (int m = 0; m < MR; m++) {
                        const size_t at = (size_t)(m0 + m) * a->K + (size_t)b * CK_QBLOCK;
                        const int8_t *x = a->qs + at;
                        dot0[m] = _mm512_dpbusd_epi32(dot0[m], lo, ck_p_bcast4(x + 4 * p));
                        dot1[m] = _mm512_dpbusd_epi32(dot1[m], hi, ck_p_bcast4(x + 16 + 4 * p));
                        if (D == 2) {
                            const int8_t *xl = a->qs_lo + at;
                            low0[m] = _mm512_dpbusd_epi32(low0[m], lo, ck_p_bcast4(xl + 4 * p));
                            low1[m] = _mm512_dpbusd_epi32(low1[m], hi, ck_p_bcast4(xl + 16 + 4 * p));
                        }
                    }
                }
            } else {
#pragma clang loop unroll(full)
                for (int c = 0; c < 8; c++) {
                    const __m512i v = _mm512_load_si512((const void *)(quants + c * CK_PACK_CHUNK_BYTES));
#pragma clang loop unroll(full)
                    for (int m = 0; m < MR; m++) {
                        const size_t at = (size_t)(m0 + m) * a->K + (size_t)b * CK_QBLOCK;
                        const int8_t *x = a->qs + at;
                        if (c & 1) dot1[m] = _mm512_dpbusd_epi32(dot1[m], v, ck_p_bcast4(x + 4 * c));
                        else dot0[m] = _mm512_dpbusd_epi32(dot0[m], v, ck_p_bcast4(x + 4 * c));
                        if (D == 2) {
                            const int8_t *xl = a->qs_lo + at;
                            if (c & 1) low1[m] = _mm512_dpbusd_epi32(low1[m], v, ck_p_bcast4(xl + 4 * c));
                            else low0[m] = _mm512_dpbusd_epi32(low0[m], v, ck_p_bcast4(xl + 4 * c));
                        }
                    }
                }
            }
            const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)tile));
            const __m512 mw = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(tile + 32)));
#pragma clang loop unroll(full)
            for (int m = 0; m < MR; m++) {
                const size_t sb = (size_t)(m0 + m) * nb + b;
                __m512i sum = _mm512_add_epi32(dot0[m], dot1[m]);
                if (D == 2) sum = _mm512_add_epi32(_mm512_slli_epi32(sum, 7), _mm512_add_epi32(low0[m], low1[m]));
                const __m512 dot = _mm512_cvtepi32_ps(sum);
                accd[m] = _mm512_fmadd_ps(dot, _mm512_mul_ps(dw, _mm512_set1_ps(a->d[sb])), accd[m]);
                accm[m] = _mm512_fmadd_ps(mw, _mm512_set1_ps(a->s[sb]), accm[m]);
            }
        }
        const int rows = ck_pack_group_rows(a, g);
        const __mmask16 keep = rows == CK_PACK_ROWS ? (__mmask16)0xFFFF : (__mmask16)((1u << rows) - 1u);
#pragma clang loop unroll(full)
        for (int m = 0; m < MR; m++) {
            float *out = a->y + (size_t)(m0 + m) * a->ldy + (size_t)g * CK_PACK_ROWS;
            _mm512_mask_storeu_ps(out, keep, _mm512_add_ps(accd[m], accm[m]));
        }
    }
}

#define CK_P_TILES(NAME, NIB, D)                                                                                   \
    static void ck_p_##NAME##_1(const ck_pargs *a, int m0, int g0, int g1) { ck_p_tile(a, NIB, D, 1, m0, g0, g1); } \
    static void ck_p_##NAME##_2(const ck_pargs *a, int m0, int g0, int g1) { ck_p_tile(a, NIB, D, 2, m0, g0, g1); } \
    static void ck_p_##NAME##_3(const ck_pargs *a, int m0, int g0, int g1) { ck_p_tile(a, NIB, D, 3, m0, g0, g1); } \
    static void ck_p_##NAME##_4(const ck_pargs *a, int m0, int g0, int g1) { ck_p_tile(a, NIB, D, 4, m0, g0, g1); }
CK_P_TILES(nib, 1, 1)
CK_P_TILES(byte, 0, 1)
CK_P_TILES(nib2, 1, 2)
CK_P_TILES(byte2, 0, 2)

typedef void (*ck_p_tile_fn)(const ck_pargs *, int, int, int);
/// [digits - 1][nibbles][rows - 1]
static const ck_p_tile_fn ck_p_tiles[2][2][4] = {
    {{ck_p_byte_1, ck_p_byte_2, ck_p_byte_3, ck_p_byte_4}, {ck_p_nib_1, ck_p_nib_2, ck_p_nib_3, ck_p_nib_4}},
    {{ck_p_byte2_1, ck_p_byte2_2, ck_p_byte2_3, ck_p_byte2_4}, {ck_p_nib2_1, ck_p_nib2_2, ck_p_nib2_3, ck_p_nib2_4}},
};

void ck_qpacked_avx512(const ck_pargs *a, int g_begin, int g_end) {
    const ck_p_tile_fn *tiles = ck_p_tiles[a->qs_lo != NULL][a->format != CK_Q8_0];
    // Rows in blocks of CK_M_BLOCK so their int8 blocks stay cached while a group's tiles pass by
    // once per 4 rows; within a block, one group at a time (its tiles stay in L1/L2 across the rows).
    for (int mb = 0; mb < a->M; mb += CK_M_BLOCK) {
        const int m_end = mb + CK_M_BLOCK < a->M ? mb + CK_M_BLOCK : a->M;
        if (m_end - mb <= 4) {
            tiles[m_end - mb - 1](a, mb, g_begin, g_end);
            continue;
        }
        for (int g = g_begin; g < g_end; g++)
            for (int m = mb; m < m_end; m += 4) tiles[(m_end - m < 4 ? m_end - m : 4) - 1](a, m, g, g + 1);
    }
}

#pragma clang attribute pop
#endif
