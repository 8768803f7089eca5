// Quantized products y = x * W^T: the portable path, argument checks, run-time dispatch; the split
// over output columns across the thread pool is ck_split_columns (pool.c).
#include "ck_internal.h"

/// Integer dot product of one weight block with 32 int8 activations. Q4_0 nibbles are re-centred
/// (q - 8); Q4_1 nibbles stay unsigned (the `m` term is added separately with the block sum).
static inline int ck_dot_block(ck_qformat format, const uint8_t *block, const int8_t *a) {
    int dot = 0;
    switch (format) {
    case CK_Q4_0:
        for (int i = 0; i < 16; i++) {
            dot += ((block[2 + i] & 0x0F) - 8) * a[i];
            dot += ((block[2 + i] >> 4) - 8) * a[i + 16];
        }
        break;
    case CK_Q4_1:
        for (int i = 0; i < 16; i++) {
            dot += (block[4 + i] & 0x0F) * a[i];
            dot += (block[4 + i] >> 4) * a[i + 16];
        }
        break;
    case CK_Q8_0:
        for (int i = 0; i < 32; i++) dot += (int8_t)block[2 + i] * a[i];
        break;
    }
    return dot;
}

void ck_qmatmul_scalar(const ck_qargs *a, int n_begin, int n_end) {
    int nb = a->K / CK_QBLOCK;
    size_t block_bytes = ck_qformat_block_bytes(a->format);
    size_t row_bytes = (size_t)nb * block_bytes;
    for (int n = n_begin; n < n_end; n++) {
        const uint8_t *row = a->w + (size_t)n * row_bytes;
        for (int m = 0; m < a->M; m++) {
            const int8_t *qm = a->qs + (size_t)m * a->K;
            const float *dm = a->d + (size_t)m * nb;
            const float *sm = a->s + (size_t)m * nb;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                const uint8_t *block = row + (size_t)b * block_bytes;
                float dw = ck_half_to_float(ck_load_u16(block));
                int dot = ck_dot_block(a->format, block, qm + b * CK_QBLOCK);
                acc += dw * dm[b] * (float)dot;
                if (a->format == CK_Q4_1) acc += ck_half_to_float(ck_load_u16(block + 2)) * sm[b];
            }
            a->y[(size_t)m * a->ldy + n] = acc;
        }
    }
}

CK_COLUMN_DISPATCH(ck_qmatmul_dispatch, ck_qargs, ck_qmatmul)

static int ck_qargs_valid(int M, int N, int K, ck_qformat format) {
    return M > 0 && N > 0 && K > 0 && K % CK_QBLOCK == 0 && ck_qformat_block_bytes(format) != 0;
}

void ck_qmatmul_range(float *y, size_t ldy, const int8_t *qs, const float *d, const float *s, const void *w,
                      ck_qformat format, int M, int N, int K, int n_begin, int n_end, ck_path path) {
    if (!ck_qargs_valid(M, N, K, format)) return;
    ck_qargs a = {y, ldy, qs, d, s, (const uint8_t *)w, format, M, N, K};
    ck_run_column_range(ck_qmatmul_dispatch, &a, N, n_begin, n_end, ck_resolve_path(path, CK_KIND_QUANTIZED));
}

/// Columns are handed out in multiples of 16 so every task starts on a whole register tile.
#define CK_N_GRANULE 16

void ck_qmatmul(float *y, size_t ldy, const int8_t *qs, const float *d, const float *s, const void *w,
                ck_qformat format, int M, int N, int K, ck_path path, ck_pool *pool) {
    if (!ck_qargs_valid(M, N, K, format)) return;
    ck_qargs a = {y, ldy, qs, d, s, (const uint8_t *)w, format, M, N, K};
    ck_split_columns(ck_qmatmul_dispatch, &a, N, CK_N_GRANULE, ck_resolve_path(path, CK_KIND_QUANTIZED), pool, 1);
}
