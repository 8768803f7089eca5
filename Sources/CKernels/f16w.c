// f16 weights x f32 activations: the portable path and the run-time dispatch (split over the pool by ck_split_columns).
#include "ck_internal.h"

void ck_f16w_matmul_scalar(const ck_f16wargs *a, int n_begin, int n_end) {
    for (int n = n_begin; n < n_end; n++) {
        const uint16_t *wn = a->w + (size_t)n * a->K;
        for (int m = 0; m < a->M; m++) {
            const float *xm = a->x + (size_t)m * a->ldx;
            float acc = 0.0f;
            for (int k = 0; k < a->K; k++) acc += xm[k] * ck_half_to_float(wn[k]);
            a->y[(size_t)m * a->ldy + n] = acc;
        }
    }
}

CK_COLUMN_DISPATCH(ck_f16w_dispatch, ck_f16wargs, ck_f16w_matmul)

void ck_f16w_matmul(float *y, size_t ldy, const float *x, size_t ldx, const uint16_t *w, int M, int N, int K,
                    ck_path path, ck_pool *pool) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    ck_f16wargs a = {y, ldy, x, ldx, w, M, N, K};
    // Small products are not worth waking the pool for.
    ck_split_columns(ck_f16w_dispatch, &a, N, 16, ck_resolve_path(path, CK_KIND_FLOAT), pool, (long)M * N * K >= (1L << 17));
}
