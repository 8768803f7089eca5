#ifndef CKERNELS_KV_H
#define CKERNELS_KV_H
/// Attention over KV cache pages stored as f32, bf16, IEEE half or 8-bit blocks, and the conversions that
/// write half and 8-bit pages. The pages are read in place through a block table: entry e of a sequence is row
/// e % block_size of block block_table[e / block_size]; its `entry_width` elements start at element
/// (block_table[e / block_size] * block_size + e % block_size) * entry_width of the page array, and one
/// head's `head_dim` elements at `head_offset` inside the entry. The kernels walk the table block by
/// block (no division per entry). 16-bit elements are widened to f32 exactly, an 8-bit element q of a
/// block with scale s reads as the f32 product q * s, and every sum is taken in f32, so a result differs
/// from the same sum over the (widened) stored values only by f32 rounding.
///
/// CK_KV_Q8 stores each run of 32 consecutive elements as one 36-byte block: an f32 scale s, then 32
/// int8 values q (the element is q * s). Its element counts and offsets (entry_width, head_offset,
/// head_dim) must be multiples of 32; the kernels do nothing for one that is not.
#include "CKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// How a KV page stores one element.
typedef enum {
    /// bfloat16: the top 16 bits of an f32.
    CK_KV_BF16 = 0,
    /// IEEE 754 binary16.
    CK_KV_F16 = 1,
    /// IEEE 754 binary32, as computed.
    CK_KV_F32 = 2,
    /// Blocks of 32 int8 values, each block with its own f32 scale (36 bytes per 32 elements).
    CK_KV_Q8 = 3,
} ck_kv_format;

/// Elements per CK_KV_Q8 block, and the bytes one block takes.
#define CK_KV_Q8_BLOCK 32
#define CK_KV_Q8_BLOCK_BYTES 36

/// Bytes `elements` consecutive elements of `format` take: 0 for an unknown format, a negative count, or
/// a CK_KV_Q8 count that is not a whole number of blocks.
size_t ck_kv_span_bytes(ck_kv_format format, int elements);

/// Writes `count` floats (a multiple of CK_KV_Q8_BLOCK; nothing happens otherwise) as CK_KV_Q8 blocks:
/// per block s = max |x| / 127 over its finite values and q = x / s rounded to nearest even, clamped to
/// [-127, 127] (an all-zero block stores s = 0; a NaN stores q = 0; an infinity saturates).
void ck_f32_to_q8kv(void *out, const float *in, size_t count);

/// Converts `count` floats to IEEE half (round to nearest even; overflow to infinity; NaN stays NaN,
/// quieted; half denormals kept). Every path gives identical bits.
void ck_f32_to_f16(uint16_t *out, const float *in, size_t count, ck_path path);

// Grouped-query attention: the `q_count` query heads that share one KV head (`head_dim` floats each,
// consecutive) are scored and summed in one pass over that head's entries, so each K and V row is read
// once for all of them. Each head's result is computed exactly as if it were alone (same operations in
// the same order), so grouping changes speed, never bits.

/// scores[g * entry_count + e] = scale * sum_{d < head_dim} q[g * head_dim + d] * K_e[d] for g < q_count
/// and e < entry_count, where K_e is one head of entry e of `pages` (elements of `format`; see above).
/// Nothing happens for a non-positive count or size or an unknown format.
void ck_kv_scores(float *scores, const float *q, int q_count, const void *pages, ck_kv_format format,
                  const int32_t *block_table, int block_size, int entry_width, int head_offset, int head_dim,
                  int entry_count, float scale, ck_path path);

/// out[g * head_dim + d] = sum_{e < entry_count} weights[g * entry_count + e] * V_e[d] for g < q_count and
/// d < head_dim (out is overwritten), where V_e is one head of entry e of `pages` (elements of `format`;
/// see above). An empty sum (non-positive entry count or size, or an unknown format) writes zeros.
void ck_kv_weighted_sum(float *out, const float *weights, int q_count, const void *pages, ck_kv_format format,
                        const int32_t *block_table, int block_size, int entry_width, int head_offset,
                        int head_dim, int entry_count, ck_path path);

#ifdef __cplusplus
}
#endif
#endif
