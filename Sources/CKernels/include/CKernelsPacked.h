#ifndef CKERNELS_PACKED_H
#define CKERNELS_PACKED_H
/// int8 products over weights repacked once at load so that one activation load feeds many weight rows.
///
/// GGUF keeps each weight row's blocks together, so a one-row product (a decode step) must reduce every
/// output to a float horizontally and reload the activation block for every row. The packed layout
/// interleaves CK_PACK_ROWS = 16 rows per 32-element block instead: a 32-bit lane r of each 64-byte
/// chunk holds 4 consecutive quants of row r, so one broadcast of 4 activation bytes against one chunk
/// is 16 rows' partial dot products (one vpdpbusd), the 16 outputs of a group come out in one register
/// with no horizontal sum, and a group's blocks lie one after another in memory (the loop streams).
///
/// Layout: group g (rows 16g ... 16g+15; a last partial group is padded with zero rows) holds K/32 tiles
/// in block order, tile (g, b) at byte (g * K/32 + b) * ck_qpack_tile_bytes(format):
///   - 16 f16 scales d (row r at index r), then 16 f16 offsets m;
///   - Q4_0 / Q4_1: 4 chunks of 64 bytes; chunk p, lane r = GGUF bytes 4p ... 4p+3 of row r's block
///     (low nibbles: elements 4p ... 4p+3; high nibbles: elements 16+4p ... 16+4p+3);
///   - Q8_0: 8 chunks of 64 bytes; chunk c, lane r = elements 4c ... 4c+3 of row r, each q + 128 (u8).
/// Every format is then "unsigned quants u with x = d*u + m": Q4_1 as stored, Q4_0 with m = -8d,
/// Q8_0 with m = -128d (both exact in f16), and a block's contribution to y is
/// d_w * d_x * sum(u * q_x) + m_w * s_x with s_x = d_x * sum(q_x) from `ck_quantize_rows_q8`.
#include "CKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Weight rows interleaved per group.
#define CK_PACK_ROWS 16

/// Bytes of one (group, block) tile of `format`: 320 for Q4_0 / Q4_1, 576 for Q8_0, 0 if unknown.
size_t ck_qpack_tile_bytes(ck_qformat format);

/// Bytes the packed form of an N x K matrix of `format` takes (whole groups), or 0 for a bad shape.
size_t ck_qpack_bytes(ck_qformat format, int N, int K);

/// Writes the packed form of `w` (N rows of K/32 GGUF blocks of `format`) into `out`
/// (`ck_qpack_bytes` bytes, 64-byte aligned for the vector loads). Returns 0 for a bad shape or format
/// (nothing written), 1 otherwise.
int ck_qpack(void *out, const void *w, ck_qformat format, int N, int K);

/// One product of a packed job: y[m*ldy + n] for n < N, with `packed` from `ck_qpack(format, N, K)`.
typedef struct {
    float *y;
    size_t ldy;
    const void *packed;
    ck_qformat format;
    int N;
} ck_qpacked_product;

/// y_i = x * W_i^T for every product i < `count` (all of width K), with x given as M rows of int8 blocks
/// from `ck_quantize_rows_q8` (qs, d, s) or `ck_quantize_rows_q8x2`: the products that share an input (q, k and v; gate and up)
/// run as one job on `pool` (NULL: the calling thread), split by groups of 16 output rows, so the pool
/// is woken once for all of them. A row's result does not depend on M, on the thread count or on the
/// other products; paths may differ in the last bits. Bad shapes do nothing.
/// `qs_lo` NULL: x is one int8 digit per value (`qs`); otherwise x is the two digits of
/// `ck_quantize_rows_q8x2` (`qs` the high digits, `qs_lo` the low ones).
void ck_qpacked_matmul(const ck_qpacked_product *products, int count, const int8_t *qs, const int8_t *qs_lo,
                       const float *d, const float *s, int M, int K, ck_path path, ck_pool *pool);

/// Writes W (N rows of K/32 blocks of `format`) re-quantized as N rows of Q4_1 blocks into `out`
/// (N * K/32 * 20 bytes): per block, d = (max - min)/15 and m = min rounded to f16, and each weight's
/// quant the nearest of 0...15 against those stored values. A coarser copy for a product whose best
/// outputs are recomputed from the original afterwards (the LM head's shortlist). Returns 0 for a bad
/// shape or format (nothing written), 1 otherwise.
int ck_requantize_q4_1(void *out, const void *w, ck_qformat format, int N, int K);

/// Most candidates `ck_qshortlist_rescore` recomputes per row.
#define CK_SHORTLIST_MAX 256

/// For each of the M rows of y (row m at y + m*ldy, N values from a coarse product such as a Q4_1 copy
/// of W with int8 activations), finds the `candidates` largest values (at most CK_SHORTLIST_MAX) and
/// overwrites each with the product of the float row x[m] (at x + m*ldx) with row n of W (N rows of
/// K/32 blocks of `format`), as `ck_qmatmul_f32` computes it. So the best outputs, those that decide a
/// greedy pick and most of a softmax, are those of the float path, at the cost of `candidates` rows.
/// Runs on the calling thread. Bad shapes do nothing.
void ck_qshortlist_rescore(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format, int M,
                           int N, int K, int candidates, ck_path path);

#ifdef __cplusplus
}
#endif
#endif
