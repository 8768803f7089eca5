// bf16: float -> bf16 conversion and bf16 products, the portable path and the run-time dispatch.
#include "ck_internal.h"

static inline uint16_t ck_float_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7FFFu + ((u >> 16) & 1u);                                             // round to nearest even
    return (uint16_t)(u >> 16);
}

CK_DEFINE_F32_TO_16(ck_f32_to_bf16, CK_KIND_BF16, ck_float_to_bf16)

void ck_bf16_matmul_scalar(const ck_bf16args *a, int n_begin, int n_end) {
    for (int n = n_begin; n < n_end; n++) {
        const uint16_t *wn = a->w + (size_t)n * a->K;
        for (int m = 0; m < a->M; m++) {
            const uint16_t *xm = a->x + (size_t)m * a->ldx;
            float acc = 0.0f;
            for (int k = 0; k < a->K; k++) acc += ck_bf16_to_float(xm[k]) * ck_bf16_to_float(wn[k]);
            a->y[(size_t)m * a->ldy + n] = acc;
        }
    }
}

CK_COLUMN_DISPATCH(ck_bf16_dispatch, ck_bf16args, ck_bf16_matmul)

void ck_bf16_matmul_range(float *y, size_t ldy, const uint16_t *x, size_t ldx, const uint16_t *w, int M, int N,
                          int K, int n_begin, int n_end, ck_path path) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    ck_bf16args a = {y, ldy, x, ldx, w, M, N, K};
    ck_run_column_range(ck_bf16_dispatch, &a, N, n_begin, n_end, ck_resolve_path(path, CK_KIND_BF16));
}

void ck_bf16_matmul(float *y, size_t ldy, const uint16_t *x, size_t ldx, const uint16_t *w, int M, int N, int K,
                    ck_path path, ck_pool *pool) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    ck_bf16args a = {y, ldy, x, ldx, w, M, N, K};
    ck_split_columns(ck_bf16_dispatch, &a, N, 16, ck_resolve_path(path, CK_KIND_BF16), pool, 1);
}
