#ifndef CK_QPACKED_INTERNAL_H
#define CK_QPACKED_INTERNAL_H
/// Shared by the packed int8 product's translation units (see CKernelsPacked.h for the layout).
#include "ck_internal.h"

/// Bytes of a tile's scale and offset headers (16 f16 d, then 16 f16 m) before its quant chunks.
#define CK_PACK_HEADER_BYTES 64
/// Bytes of one quant chunk: 4 bytes for each of the 16 rows.
#define CK_PACK_CHUNK_BYTES 64

/// Arguments of one packed product, shared by every path: groups are walked by the path, all M rows each.
typedef struct {
    float *y;
    size_t ldy;
    const uint8_t *packed;
    ck_qformat format;
    int N;
    const int8_t *qs;
    /// The low digits of two-digit activations, or NULL for one int8 digit.
    const int8_t *qs_lo;
    const float *d;
    const float *s;
    int M, K;
} ck_pargs;

/// Output rows of group `g` that exist (the last group may be partial).
static inline int ck_pack_group_rows(const ck_pargs *a, int g) {
    const int rows = a->N - g * CK_PACK_ROWS;
    return rows < CK_PACK_ROWS ? rows : CK_PACK_ROWS;
}

/// Computes groups [g_begin, g_end) of one product for all M activation rows.
void ck_qpacked_scalar(const ck_pargs *a, int g_begin, int g_end);
void ck_qpacked_avx2(const ck_pargs *a, int g_begin, int g_end);
void ck_qpacked_avx_vnni(const ck_pargs *a, int g_begin, int g_end);
void ck_qpacked_avx512(const ck_pargs *a, int g_begin, int g_end);

#endif
