// Quantized weights x float activations: the portable path, argument checks, run-time dispatch; the
// split over output columns across the thread pool is ck_split_columns (pool.c).
#include "qmatmul_f32_internal.h"

/// Decodes one block of `format` to its 32 float weights.
static inline void ck_decode_block_f32(ck_qformat format, const uint8_t *block, float w[CK_QBLOCK]) {
    const float d = ck_half_to_float(ck_load_u16(block));
    switch (format) {
    case CK_Q4_0:
        for (int i = 0; i < 16; i++) {
            w[i] = d * (float)((block[2 + i] & 0x0F) - 8);
            w[i + 16] = d * (float)((block[2 + i] >> 4) - 8);
        }
        break;
    case CK_Q4_1: {
        const float m = ck_half_to_float(ck_load_u16(block + 2));
        for (int i = 0; i < 16; i++) {
            w[i] = d * (float)(block[4 + i] & 0x0F) + m;
            w[i + 16] = d * (float)(block[4 + i] >> 4) + m;
        }
        break;
    }
    case CK_Q8_0:
        for (int i = 0; i < 32; i++) w[i] = d * (float)(int8_t)block[2 + i];
        break;
    }
}

/// Each (m, n) sums w[k]*x[k] one k after another in one f32 accumulator. A weight block is decoded once
/// and used for up to CK_M_BLOCK rows.
void ck_qmatmul_f32_scalar(const ck_qf32args *a, int n_begin, int n_end) {
    const int nb = a->K / CK_QBLOCK;
    const size_t block_bytes = ck_qformat_block_bytes(a->format);
    const size_t row_bytes = (size_t)nb * block_bytes;
    float w[CK_QBLOCK];
    float acc[CK_M_BLOCK];
    for (int n = n_begin; n < n_end; n++) {
        const uint8_t *row = a->w + (size_t)n * row_bytes;
        for (int mb = 0; mb < a->M; mb += CK_M_BLOCK) {
            const int rows = a->M - mb < CK_M_BLOCK ? a->M - mb : CK_M_BLOCK;
            for (int r = 0; r < rows; r++) acc[r] = 0.0f;
            for (int b = 0; b < nb; b++) {
                ck_decode_block_f32(a->format, row + (size_t)b * block_bytes, w);
                for (int r = 0; r < rows; r++) {
                    const float *xr = a->x + (size_t)(mb + r) * a->ldx + (size_t)b * CK_QBLOCK;
                    float s = acc[r];
                    for (int i = 0; i < CK_QBLOCK; i++) s += w[i] * xr[i];
                    acc[r] = s;
                }
            }
            for (int r = 0; r < rows; r++) a->y[(size_t)(mb + r) * a->ldy + n] = acc[r];
        }
    }
}

CK_COLUMN_DISPATCH(ck_qf32_dispatch, ck_qf32args, ck_qmatmul_f32)

static int ck_qf32_valid(int M, int N, int K, size_t ldx, ck_qformat format) {
    return M > 0 && N > 0 && K > 0 && K % CK_QBLOCK == 0 && ldx >= (size_t)K &&
           ck_qformat_block_bytes(format) != 0;
}

void ck_qmatmul_f32_range(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format,
                          int M, int N, int K, int n_begin, int n_end, ck_path path) {
    if (!ck_qf32_valid(M, N, K, ldx, format)) return;
    ck_qf32args a = {y, ldy, x, ldx, (const uint8_t *)w, format, M, N, K};
    ck_run_column_range(ck_qf32_dispatch, &a, N, n_begin, n_end, ck_resolve_path(path, CK_KIND_QUANTIZED));
}

/// Columns are handed out in multiples of 16 so every task starts on whole register tiles.
#define CK_F32_N_GRANULE 16

void ck_qmatmul_f32(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format, int M,
                    int N, int K, ck_path path, ck_pool *pool) {
    if (!ck_qf32_valid(M, N, K, ldx, format)) return;
    ck_qf32args a = {y, ldy, x, ldx, (const uint8_t *)w, format, M, N, K};
    ck_split_columns(ck_qf32_dispatch, &a, N, CK_F32_N_GRANULE, ck_resolve_path(path, CK_KIND_QUANTIZED), pool, 1);
}
