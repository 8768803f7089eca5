// Packed int8 products: the repacking done at load, the portable path, and one pool job for several
// products that share an input.
#include "qpacked_internal.h"

size_t ck_qpack_tile_bytes(ck_qformat format) {
    switch (format) {
    case CK_Q4_0:
    case CK_Q4_1: return CK_PACK_HEADER_BYTES + 4 * CK_PACK_CHUNK_BYTES;
    case CK_Q8_0: return CK_PACK_HEADER_BYTES + 8 * CK_PACK_CHUNK_BYTES;
    }
    return 0;
}

size_t ck_qpack_bytes(ck_qformat format, int N, int K) {
    if (N <= 0 || K <= 0 || K % CK_QBLOCK != 0) return 0;
    const size_t groups = ((size_t)N + CK_PACK_ROWS - 1) / CK_PACK_ROWS;
    return groups * (size_t)(K / CK_QBLOCK) * ck_qpack_tile_bytes(format);
}

static void ck_store_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof v); }

int ck_qpack(void *out, const void *w, ck_qformat format, int N, int K) {
    const size_t total = ck_qpack_bytes(format, N, K);
    if (total == 0 || !out || !w) return 0;
    const int nb = K / CK_QBLOCK;
    const size_t bb = ck_qformat_block_bytes(format), tb = ck_qpack_tile_bytes(format);
    uint8_t *dst = (uint8_t *)out;
    const uint8_t *src = (const uint8_t *)w;
    // Padding rows stay zero: d = m = 0, so they add nothing and are never stored.
    memset(dst, 0, total);
    for (int n = 0; n < N; n++) {
        const int g = n / CK_PACK_ROWS, r = n % CK_PACK_ROWS;
        for (int b = 0; b < nb; b++) {
            const uint8_t *block = src + ((size_t)n * nb + b) * bb;
            uint8_t *tile = dst + ((size_t)g * nb + b) * tb;
            uint8_t *quants = tile + CK_PACK_HEADER_BYTES + 4 * r;
            const uint16_t d = ck_load_u16(block);
            uint16_t m;
            switch (format) {
            case CK_Q4_1:
                m = ck_load_u16(block + 2);
                for (int p = 0; p < 4; p++) memcpy(quants + p * CK_PACK_CHUNK_BYTES, block + 4 + 4 * p, 4);
                break;
            case CK_Q4_0:
                m = ck_float_to_half(-8.0f * ck_half_to_float(d));  // exact: a power-of-two multiple
                for (int p = 0; p < 4; p++) memcpy(quants + p * CK_PACK_CHUNK_BYTES, block + 2 + 4 * p, 4);
                break;
            default:  // CK_Q8_0: q + 128 as u8, i.e. the sign bit flipped
                m = ck_float_to_half(-128.0f * ck_half_to_float(d));
                for (int c = 0; c < 8; c++)
                    for (int i = 0; i < 4; i++) quants[c * CK_PACK_CHUNK_BYTES + i] = block[2 + 4 * c + i] ^ 0x80u;
                break;
            }
            ck_store_u16(tile + 2 * r, d);
            ck_store_u16(tile + 32 + 2 * r, m);
        }
    }
    return 1;
}

void ck_qpacked_scalar(const ck_pargs *a, int g_begin, int g_end) {
    const int nb = a->K / CK_QBLOCK;
    const size_t tb = ck_qpack_tile_bytes(a->format);
    const int nibbles = a->format != CK_Q8_0;
    for (int g = g_begin; g < g_end; g++) {
        const int rows = ck_pack_group_rows(a, g);
        for (int m = 0; m < a->M; m++) {
            float accd[CK_PACK_ROWS] = {0}, accm[CK_PACK_ROWS] = {0};
            for (int b = 0; b < nb; b++) {
                const uint8_t *tile = a->packed + ((size_t)g * nb + b) * tb;
                const uint8_t *quants = tile + CK_PACK_HEADER_BYTES;
                const size_t at = (size_t)m * a->K + (size_t)b * CK_QBLOCK;
                const float dx = a->d[(size_t)m * nb + b], sx = a->s[(size_t)m * nb + b];
                for (int r = 0; r < rows; r++) {
                    int dot = 0;
                    for (int digit = 0; digit < (a->qs_lo ? 2 : 1); digit++) {
                        const int8_t *x = (digit == 0 ? a->qs : a->qs_lo) + at;
                        int part = 0;
                        if (nibbles) {
                            for (int p = 0; p < 4; p++)
                                for (int i = 0; i < 4; i++) {
                                    const uint8_t byte = quants[p * CK_PACK_CHUNK_BYTES + 4 * r + i];
                                    part += (byte & 0x0F) * x[4 * p + i] + (byte >> 4) * x[16 + 4 * p + i];
                                }
                        } else {
                            for (int c = 0; c < 8; c++)
                                for (int i = 0; i < 4; i++) part += quants[c * CK_PACK_CHUNK_BYTES + 4 * r + i] * x[4 * c + i];
                        }
                        dot = digit == 0 ? part : dot * 128 + part;
                    }
                    accd[r] += (float)dot * (ck_half_to_float(ck_load_u16(tile + 2 * r)) * dx);
                    accm[r] += ck_half_to_float(ck_load_u16(tile + 32 + 2 * r)) * sx;
                }
            }
            float *out = a->y + (size_t)m * a->ldy + (size_t)g * CK_PACK_ROWS;
            for (int r = 0; r < rows; r++) out[r] = accd[r] + accm[r];
        }
    }
}

#if !defined(__x86_64__)
void ck_qpacked_avx2(const ck_pargs *a, int g_begin, int g_end) { ck_qpacked_scalar(a, g_begin, g_end); }
void ck_qpacked_avx_vnni(const ck_pargs *a, int g_begin, int g_end) { ck_qpacked_scalar(a, g_begin, g_end); }
void ck_qpacked_avx512(const ck_pargs *a, int g_begin, int g_end) { ck_qpacked_scalar(a, g_begin, g_end); }
#endif

/// The job over every product's groups, numbered one after another across the products.
typedef struct {
    const ck_pargs *args;
    int count;
    /// First global group of each product, and the total in `starts[count]`.
    int starts[9];
    int groups_per_task;
    ck_path path;
} ck_pjob;

static void ck_pjob_range(const ck_pjob *job, int begin, int end) {
    for (int i = 0; i < job->count && begin < end; i++) {
        const int lo = job->starts[i], hi = job->starts[i + 1];
        if (begin >= hi) continue;
        const int stop = end < hi ? end : hi;
        const ck_pargs *a = &job->args[i];
        switch (job->path) {
        case CK_PATH_AVX512: ck_qpacked_avx512(a, begin - lo, stop - lo); break;
        case CK_PATH_AVX_VNNI: ck_qpacked_avx_vnni(a, begin - lo, stop - lo); break;
        case CK_PATH_AVX2: ck_qpacked_avx2(a, begin - lo, stop - lo); break;
        default: ck_qpacked_scalar(a, begin - lo, stop - lo); break;
        }
        begin = stop;
    }
}

static void ck_pjob_task(void *context, int task, int thread) {
    (void)thread;
    const ck_pjob *job = (const ck_pjob *)context;
    const int total = job->starts[job->count];
    const int begin = task * job->groups_per_task;
    const int end = begin + job->groups_per_task < total ? begin + job->groups_per_task : total;
    ck_pjob_range(job, begin, end);
}

/// Most products one job takes (q, k, v: 3; gate, up: 2).
#define CK_PJOB_MAX 8

void ck_qpacked_matmul(const ck_qpacked_product *products, int count, const int8_t *qs, const int8_t *qs_lo,
                       const float *d, const float *s, int M, int K, ck_path path, ck_pool *pool) {
    if (count <= 0 || M <= 0 || K <= 0 || K % CK_QBLOCK != 0 || !qs || !d || !s) return;
    // Longer lists run in several jobs.
    if (count > CK_PJOB_MAX) {
        ck_qpacked_matmul(products, CK_PJOB_MAX, qs, qs_lo, d, s, M, K, path, pool);
        ck_qpacked_matmul(products + CK_PJOB_MAX, count - CK_PJOB_MAX, qs, qs_lo, d, s, M, K, path, pool);
        return;
    }
    ck_pargs args[CK_PJOB_MAX];
    ck_pjob job = {args, count, {0}, 1, ck_resolve_path(path, CK_KIND_PACKED)};
    for (int i = 0; i < count; i++) {
        const ck_qpacked_product *p = &products[i];
        if (p->N <= 0 || !p->y || !p->packed || ck_qpack_tile_bytes(p->format) == 0) return;
        args[i] = (ck_pargs){p->y, p->ldy, (const uint8_t *)p->packed, p->format, p->N, qs, qs_lo, d, s, M, K};
        job.starts[i + 1] = job.starts[i] + (p->N + CK_PACK_ROWS - 1) / CK_PACK_ROWS;
    }
    const int total = job.starts[count];
    const int threads = ck_pool_thread_count(pool);
    // A few tasks per thread: enough that a thread the OS delays holds up little, few enough that
    // claiming them costs nothing next to a task (>= 2 groups of 16 rows).
    const int tasks = threads <= 1 ? 1 : threads * 4;
    int per = (total + tasks - 1) / tasks;
    if (per < 2) per = 2;
    job.groups_per_task = per;
    const int task_count = (total + per - 1) / per;
    if (task_count <= 1) {
        ck_pjob_range(&job, 0, total);
        return;
    }
    ck_pool_run(pool, task_count, ck_pjob_task, &job);
}
