// Quantized weights x float activations: the portable path, argument checks, run-time dispatch and the
// split over output columns across the thread pool.
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

static void ck_qf32_dispatch(const ck_qf32args *a, int n_begin, int n_end, ck_path path) {
    switch (path) {
#if defined(__x86_64__)
    case CK_PATH_AVX512: ck_qmatmul_f32_avx512(a, n_begin, n_end); return;
    case CK_PATH_AVX2: ck_qmatmul_f32_avx2(a, n_begin, n_end); return;
#endif
    default: ck_qmatmul_f32_scalar(a, n_begin, n_end); return;
    }
}

static int ck_qf32_valid(int M, int N, int K, size_t ldx, ck_qformat format) {
    return M > 0 && N > 0 && K > 0 && K % CK_QBLOCK == 0 && ldx >= (size_t)K &&
           ck_qformat_block_bytes(format) != 0;
}

void ck_qmatmul_f32_range(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format,
                          int M, int N, int K, int n_begin, int n_end, ck_path path) {
    if (!ck_qf32_valid(M, N, K, ldx, format)) return;
    if (n_begin < 0) n_begin = 0;
    if (n_end > N) n_end = N;
    if (n_begin >= n_end) return;
    ck_qf32args a = {y, ldy, x, ldx, (const uint8_t *)w, format, M, N, K};
    ck_qf32_dispatch(&a, n_begin, n_end, ck_resolve_path(path, CK_KIND_QUANTIZED));
}

typedef struct {
    ck_qf32args args;
    ck_path path;
    int columns_per_task;
} ck_qf32job;

/// Columns are handed out in multiples of 16 so every task starts on whole register tiles.
#define CK_F32_N_GRANULE 16

static void ck_qf32job_run(void *context, int task, int thread) {
    (void)thread;
    const ck_qf32job *job = (const ck_qf32job *)context;
    int begin = task * job->columns_per_task;
    int end = begin + job->columns_per_task < job->args.N ? begin + job->columns_per_task : job->args.N;
    if (begin < end) ck_qf32_dispatch(&job->args, begin, end, job->path);
}

void ck_qmatmul_f32(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format, int M,
                    int N, int K, ck_path path, ck_pool *pool) {
    if (!ck_qf32_valid(M, N, K, ldx, format)) return;
    int threads = ck_pool_thread_count(pool);
    ck_qf32job job = {{y, ldy, x, ldx, (const uint8_t *)w, format, M, N, K},
                      ck_resolve_path(path, CK_KIND_QUANTIZED), ck_task_columns(N, CK_F32_N_GRANULE, threads)};
    int tasks = (N + job.columns_per_task - 1) / job.columns_per_task;
    if (threads <= 1 || tasks <= 1) {
        ck_qf32_dispatch(&job.args, 0, N, job.path);
        return;
    }
    ck_pool_run(pool, tasks, ck_qf32job_run, &job);
}
