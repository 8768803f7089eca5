#ifndef CKERNELS_KV_H
#define CKERNELS_KV_H
/// Attention over KV cache pages stored as 16-bit floats (bf16 or IEEE half), and the conversion that
/// writes them. The pages are read in place through a block table: entry e of a sequence is row
/// e % block_size of block block_table[e / block_size]; its `entry_width` elements start at element
/// (block_table[e / block_size] * block_size + e % block_size) * entry_width of the page array, and one
/// head's `head_dim` elements at `head_offset` inside the entry. Every element is widened to f32
/// exactly and the sums are taken in f32, so a result differs from the same sum over the widened values
/// only by f32 rounding.
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
} ck_kv_format;

/// Converts `count` floats to IEEE half (round to nearest even; overflow to infinity; NaN stays NaN,
/// quieted; half denormals kept). Every path gives identical bits.
void ck_f32_to_f16(uint16_t *out, const float *in, size_t count, ck_path path);

/// scores[e] = scale * sum_{d < head_dim} q[d] * K_e[d] for e < entry_count, where K_e is one head of
/// entry e of `pages` (see above). Nothing happens for a non-positive count or size.
void ck_kv_scores(float *scores, const float *q, const uint16_t *pages, ck_kv_format format,
                  const int32_t *block_table, int block_size, int entry_width, int head_offset, int head_dim,
                  int entry_count, float scale, ck_path path);

/// out[d] = sum_{e < entry_count} weights[e] * V_e[d] for d < head_dim (out is overwritten), where V_e
/// is one head of entry e of `pages` (see above).
void ck_kv_weighted_sum(float *out, const float *weights, const uint16_t *pages, ck_kv_format format,
                        const int32_t *block_table, int block_size, int entry_width, int head_offset,
                        int head_dim, int entry_count, ck_path path);

#ifdef __cplusplus
}
#endif
#endif
