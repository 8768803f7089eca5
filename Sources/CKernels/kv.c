// Attention over KV pages (f32, bf16, f16, 8-bit blocks): float -> half and float -> 8-bit block conversion,
// the portable paths and the run-time dispatch.
#include "ck_internal.h"
#include <float.h>
#include <math.h>

CK_DEFINE_F32_TO_16(ck_f32_to_f16, CK_KIND_FLOAT, ck_float_to_half)

size_t ck_kv_span_bytes(ck_kv_format format, int elements) {
    if (elements < 0) return 0;
    switch (format) {
    case CK_KV_BF16: case CK_KV_F16: case CK_KV_F32: return ck_kv_bytes(format, elements);
    case CK_KV_Q8: return elements % CK_KV_Q8_BLOCK == 0 ? ck_kv_bytes(format, elements) : 0;
    default: return 0;
    }
}

void ck_f32_to_q8kv(void *out, const float *in, size_t count) {
    if (count % CK_KV_Q8_BLOCK != 0) return;
    unsigned char *block = (unsigned char *)out;
    for (size_t b = 0; b < count; b += CK_KV_Q8_BLOCK, block += CK_KV_Q8_BLOCK_BYTES) {
        float amax = 0.0f;
        for (int i = 0; i < CK_KV_Q8_BLOCK; i++) {
            const float a = fabsf(in[b + i]);
            if (a > amax && a <= FLT_MAX) amax = a;  // finite values only (NaN and infinity compare out)
        }
        const float scale = amax / 127.0f;
        memcpy(block, &scale, sizeof scale);
        int8_t *q = (int8_t *)(block + 4);
        for (int i = 0; i < CK_KV_Q8_BLOCK; i++) {
            const float x = in[b + i];
            float r = scale > 0.0f ? nearbyintf(x / scale) : 0.0f;  // nearest even (default rounding mode)
            if (r != r) r = 0.0f;
            q[i] = (int8_t)(r > 127.0f ? 127.0f : (r < -127.0f ? -127.0f : r));
        }
    }
}

/// Whether the geometry suits `format`: a known format, and for CK_KV_Q8 whole blocks everywhere.
static int ck_kv_geometry_ok(ck_kv_format format, int entry_width, int head_offset, int head_dim) {
    if (ck_kv_span_bytes(format, entry_width) == 0) return 0;
    if (format != CK_KV_Q8) return 1;
    return head_offset % CK_KV_Q8_BLOCK == 0 && head_dim % CK_KV_Q8_BLOCK == 0;
}

/// Scores of G query heads (a constant 1...4), each K row read once for all of them.
static inline __attribute__((always_inline)) void ck_kv_scores_scalar_impl(float *scores, const float *q, const ck_kvargs *a,
                                                                            float scale, ck_kv_format format, const int G) {
    const int dim = a->head_dim;
    const size_t n = (size_t)a->entry_count;
    CK_KV_EACH_ENTRY(a, format, e, k, {
        for (int g = 0; g < G; g++) {
            float s = 0.0f;
            for (int d = 0; d < dim; d++) s += q[g * dim + d] * ck_kv_element(k, d, format);
            scores[g * n + e] = s * scale;
        }
    });
}

/// Weighted sums of V for G query heads (a constant 1...4), each V row read once for all of them.
static inline __attribute__((always_inline)) void ck_kv_weighted_sum_scalar_impl(float *out, const float *weights,
                                                                                  const ck_kvargs *a, ck_kv_format format,
                                                                                  const int G) {
    const int dim = a->head_dim;
    const size_t n = (size_t)a->entry_count;
    for (int i = 0; i < G * dim; i++) out[i] = 0.0f;
    CK_KV_EACH_ENTRY(a, format, e, v, {
        for (int g = 0; g < G; g++) {
            const float p = weights[g * n + e];
            for (int d = 0; d < dim; d++) out[g * dim + d] += p * ck_kv_element(v, d, format);
        }
    });
}

// One instantiation per format and group size, so both are constants inside the loops.
static void ck_kv_scores_scalar(float *scores, const float *q, int q_count, const ck_kvargs *a, float scale,
                                ck_kv_format format) {
#define CK_CALL(F, G) ck_kv_scores_scalar_impl(scores, q, a, scale, F, G)
    CK_KV_DISPATCH(format, q_count, CK_CALL);
#undef CK_CALL
}

static void ck_kv_weighted_sum_scalar(float *out, const float *weights, int q_count, const ck_kvargs *a,
                                      ck_kv_format format) {
#define CK_CALL(F, G) ck_kv_weighted_sum_scalar_impl(out, weights, a, F, G)
    CK_KV_DISPATCH(format, q_count, CK_CALL);
#undef CK_CALL
}

void ck_kv_scores(float *scores, const float *q, int q_count, const void *pages, ck_kv_format format,
                  const int32_t *block_table, int block_size, int entry_width, int head_offset, int head_dim,
                  int entry_count, float scale, ck_path path) {
    if (q_count <= 0 || entry_count <= 0 || head_dim <= 0 || block_size <= 0 || entry_width <= 0) return;
    if (!ck_kv_geometry_ok(format, entry_width, head_offset, head_dim)) return;
    const ck_kvargs a = {pages, block_table, block_size, entry_width, head_offset, head_dim, entry_count};
    const ck_path resolved = ck_resolve_path(path, CK_KIND_FLOAT);
    // Passes of up to CK_KV_MAX_GROUP query heads.
    for (int g0 = 0; g0 < q_count; g0 += CK_KV_MAX_GROUP)
        CK_CALL_PATH(resolved, ck_kv_scores, (scores + (size_t)g0 * (size_t)entry_count, q + (size_t)g0 * (size_t)head_dim,
                                              ck_kv_group_size(q_count, g0), &a, scale, format));
}

void ck_kv_weighted_sum(float *out, const float *weights, int q_count, const void *pages, ck_kv_format format,
                        const int32_t *block_table, int block_size, int entry_width, int head_offset,
                        int head_dim, int entry_count, ck_path path) {
    if (q_count <= 0 || head_dim <= 0) return;
    if (entry_count <= 0 || block_size <= 0 || entry_width <= 0 ||
        !ck_kv_geometry_ok(format, entry_width, head_offset, head_dim)) {
        for (size_t i = 0; i < (size_t)q_count * (size_t)head_dim; i++) out[i] = 0.0f;
        return;
    }
    const ck_kvargs a = {pages, block_table, block_size, entry_width, head_offset, head_dim, entry_count};
    const ck_path resolved = ck_resolve_path(path, CK_KIND_FLOAT);
    for (int g0 = 0; g0 < q_count; g0 += CK_KV_MAX_GROUP)
        CK_CALL_PATH(resolved, ck_kv_weighted_sum, (out + (size_t)g0 * (size_t)head_dim, weights + (size_t)g0 * (size_t)entry_count,
                                                    ck_kv_group_size(q_count, g0), &a, format));
}
