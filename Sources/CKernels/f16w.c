// f16 weights x f32 activations: the portable path, the run-time dispatch and the pool job.
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

static void ck_f16w_dispatch(const ck_f16wargs *a, int n_begin, int n_end, ck_path path) {
    switch (path) {
#if defined(__x86_64__)
    case CK_PATH_AVX512: ck_f16w_matmul_avx512(a, n_begin, n_end); return;
    case CK_PATH_AVX2: ck_f16w_matmul_avx2(a, n_begin, n_end); return;
#endif
    default: ck_f16w_matmul_scalar(a, n_begin, n_end); return;
    }
}

typedef struct {
    ck_f16wargs args;
    ck_path path;
    int columns_per_task;
} ck_f16wjob;

static void ck_f16wjob_run(void *context, int task, int thread) {
    (void)thread;
    const ck_f16wjob *job = (const ck_f16wjob *)context;
    int begin = task * job->columns_per_task;
    int end = begin + job->columns_per_task < job->args.N ? begin + job->columns_per_task : job->args.N;
    if (begin < end) ck_f16w_dispatch(&job->args, begin, end, job->path);
}

void ck_f16w_matmul(float *y, size_t ldy, const float *x, size_t ldx, const uint16_t *w, int M, int N, int K,
                    ck_path path, ck_pool *pool) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    int threads = ck_pool_thread_count(pool);
    ck_f16wjob job = {{y, ldy, x, ldx, w, M, N, K}, ck_resolve_path(path, CK_KIND_FLOAT), ck_task_columns(N, 16, threads)};
    int tasks = (N + job.columns_per_task - 1) / job.columns_per_task;
    // Small products are not worth waking the pool for.
    if (threads <= 1 || tasks <= 1 || (long)M * N * K < (1L << 17)) {
        ck_f16w_dispatch(&job.args, 0, N, job.path);
        return;
    }
    ck_pool_run(pool, tasks, ck_f16wjob_run, &job);
}
