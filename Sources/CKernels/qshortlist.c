// The LM head's shortlist: the best outputs of a coarse product recomputed from the exact weights.
#include "ck_internal.h"

/// Indices of the `count` largest of y[0 ..< N] (ties: the lower index first), best first, in `best`.
/// NaN never enters. Returns how many were found (fewer only when N < count or values are NaN).
static int ck_top_indices(int *best, float *values, int count, const float *y, int N) {
    int found = 0;
    for (int n = 0; n < N; n++) {
        const float v = y[n];
        if (!(found < count ? v == v : v > values[found - 1])) continue;
        int at = found < count ? found++ : count - 1;
        while (at > 0 && v > values[at - 1]) {
            values[at] = values[at - 1];
            best[at] = best[at - 1];
            at--;
        }
        values[at] = v;
        best[at] = n;
    }
    return found;
}

void ck_qshortlist_rescore(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format, int M,
                           int N, int K, int candidates, ck_path path) {
    if (M <= 0 || N <= 0 || K <= 0 || K % CK_QBLOCK != 0 || candidates <= 0 || ck_qformat_block_bytes(format) == 0) return;
    if (candidates > CK_SHORTLIST_MAX) candidates = CK_SHORTLIST_MAX;
    for (int m = 0; m < M; m++) {
        float *row = y + (size_t)m * ldy;
        int best[CK_SHORTLIST_MAX];
        float values[CK_SHORTLIST_MAX];
        const int found = ck_top_indices(best, values, candidates, row, N);
        for (int i = 0; i < found; i++) {
            const int n = best[i];
            ck_qmatmul_f32_range(row, ldy, x + (size_t)m * ldx, ldx, w, format, 1, N, K, n, n + 1, path);
        }
    }
}
