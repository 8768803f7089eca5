#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H
/// Shared by the CKernels translation units; not part of the public header.
#include "CKernels.h"
#include <string.h>

/// Resolves CK_PATH_AUTO and downgrades a forced path the CPU lacks to the best one it has.
ck_path ck_resolve_path(ck_path path, ck_kind kind);

/// IEEE half -> float, exact for every half (denormals, infinities, NaN).
static inline float ck_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu;
    uint32_t mantissa = h & 0x3FFu;
    uint32_t bits;
    if (exponent == 0x1Fu) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        // Denormal: normalise the mantissa.
        int shift = 0;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            shift++;
        }
        mantissa &= 0x3FFu;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// IEEE half bits of `f`, rounded to nearest even.
static inline uint16_t ck_float_to_half(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu));  // NaN, quieted
    if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);  // >= 65520 rounds to infinity (or is one)
    if (a >= 0x38800000u) {                                    // a normal half (>= 2^-14)
        uint32_t m = a - 0x38000000u;                          // rebias the exponent: 127 -> 15
        m += 0xFFFu + ((m >> 13) & 1u);                        // round to nearest even (a carry bumps the exponent)
        return (uint16_t)(sign | (m >> 13));
    }
    if (a <= 0x33000000u) return sign;  // <= 2^-25: rounds to zero (2^-25 itself is a tie to even 0)
    // A half denormal: units of 2^-24.
    const uint32_t exponent = a >> 23;
    const uint32_t mantissa = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - exponent;  // 14...24
    uint32_t q = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

/// Reads the little-endian u16 at `p` (blocks are packed, so fields may be unaligned).
static inline uint16_t ck_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float ck_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void ck_quantize_rows_scalar(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols);
void ck_quantize_rows_avx2(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols);
void ck_quantize_rows_avx512(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols);
void ck_quantize_rows_q8x2_avx512(int8_t *hi, int8_t *lo, float *d, float *s, const float *x, size_t ldx, int rows,
                                  int cols);

/// Arguments of one f16-weight product (Float activations), shared by every path.
typedef struct {
    float *y;
    size_t ldy;
    const float *x;
    size_t ldx;
    const uint16_t *w;
    int M, N, K;
} ck_f16wargs;

void ck_f16w_matmul_scalar(const ck_f16wargs *a, int n_begin, int n_end);
void ck_f16w_matmul_avx2(const ck_f16wargs *a, int n_begin, int n_end);
void ck_f16w_matmul_avx512(const ck_f16wargs *a, int n_begin, int n_end);

/// Arguments of one bf16 product, shared by every path.
typedef struct {
    float *y;
    size_t ldy;
    const uint16_t *x;
    size_t ldx;
    const uint16_t *w;
    int M, N, K;
} ck_bf16args;

void ck_bf16_matmul_scalar(const ck_bf16args *a, int n_begin, int n_end);
void ck_bf16_matmul_avx2(const ck_bf16args *a, int n_begin, int n_end);
void ck_bf16_matmul_avx512(const ck_bf16args *a, int n_begin, int n_end);
void ck_f32_to_bf16_avx2(uint16_t *out, const float *in, size_t count);
void ck_f32_to_bf16_avx512(uint16_t *out, const float *in, size_t count);

/// One head's view of a paged KV cache (see CKernelsKV.h).
typedef struct {
    const void *pages;
    const int32_t *table;
    int block_size, entry_width, head_offset, head_dim, entry_count;
} ck_kvargs;

/// Bytes `elements` elements of a format already checked take (for CK_KV_Q8, whole blocks).
static inline size_t ck_kv_bytes(ck_kv_format format, int elements) {
    switch (format) {
    case CK_KV_F32: return 4 * (size_t)elements;
    case CK_KV_Q8: return (size_t)(elements / CK_KV_Q8_BLOCK) * CK_KV_Q8_BLOCK_BYTES;
    default: return 2 * (size_t)elements;
    }
}

/// Runs the statements after `e, row,` for every entry e < entry_count of `a`, with `row` (a
/// `const void *`) pointing at the entry's head, elements stored as `format`: block by block, so no
/// division per entry.
#define CK_KV_EACH_ENTRY(a, format, e, row, ...)                                                          \
    do {                                                                                                  \
        const size_t ck_row_bytes = ck_kv_bytes((format), (a)->entry_width);                              \
        for (int ck_start = 0, ck_block = 0; ck_start < (a)->entry_count;                                 \
             ck_start += (a)->block_size, ck_block++) {                                                   \
            const unsigned char *ck_base = (const unsigned char *)(a)->pages +                            \
                (size_t)(a)->table[ck_block] * (size_t)(a)->block_size * ck_row_bytes +                   \
                ck_kv_bytes((format), (a)->head_offset);                                                  \
            const int ck_rows = (a)->entry_count - ck_start < (a)->block_size ? (a)->entry_count - ck_start \
                                                                               : (a)->block_size;          \
            for (int ck_row = 0; ck_row < ck_rows; ck_row++) {                                            \
                const int e = ck_start + ck_row;                                                          \
                const void *row = ck_base + (size_t)ck_row * ck_row_bytes;                                \
                (void)e;                                                                                  \
                __VA_ARGS__                                                                               \
            }                                                                                             \
        }                                                                                                 \
    } while (0)

/// Element `d` of a KV row stored as `format`, widened to f32 (exact).
static inline float ck_kv_element(const void *row, int d, ck_kv_format format) {
    switch (format) {
    case CK_KV_F32: return ((const float *)row)[d];
    case CK_KV_F16: return ck_half_to_float(((const uint16_t *)row)[d]);
    case CK_KV_Q8: {
        const unsigned char *block = (const unsigned char *)row + (size_t)(d / CK_KV_Q8_BLOCK) * CK_KV_Q8_BLOCK_BYTES;
        float scale;
        memcpy(&scale, block, sizeof scale);
        return (float)((const int8_t *)(block + 4))[d % CK_KV_Q8_BLOCK] * scale;
    }
    default: return ck_bf16_to_float(((const uint16_t *)row)[d]);
    }
}

/// Query heads scored or summed together in one pass (more are split into passes of this many).
#define CK_KV_MAX_GROUP 4

/// Query heads in the pass starting at head `g0` of `q_count`: up to CK_KV_MAX_GROUP.
static inline int ck_kv_group_size(int q_count, int g0) {
    return q_count - g0 < CK_KV_MAX_GROUP ? q_count - g0 : CK_KV_MAX_GROUP;
}

/// Path bodies of ck_kv_scores / ck_kv_weighted_sum for 1 <= q_count <= CK_KV_MAX_GROUP, arguments
/// checked; scores and weights are [q_count][a->entry_count], q and out [q_count][a->head_dim].
void ck_kv_scores_avx2(float *scores, const float *q, int q_count, const ck_kvargs *a, float scale, ck_kv_format format);
void ck_kv_scores_avx512(float *scores, const float *q, int q_count, const ck_kvargs *a, float scale, ck_kv_format format);
void ck_kv_weighted_sum_avx2(float *out, const float *weights, int q_count, const ck_kvargs *a, ck_kv_format format);
void ck_kv_weighted_sum_avx512(float *out, const float *weights, int q_count, const ck_kvargs *a, ck_kv_format format);

/// Runs CALL(F, G) with F the constant format equal to `format` and G the constant group size equal to
/// `count` (1...CK_KV_MAX_GROUP), so a kernel written for constants is instantiated once per pair.
#define CK_KV_GROUPS(F, count, CALL)                                              \
    switch (count) {                                                              \
    case 1: CALL(F, 1); break;                                                    \
    case 2: CALL(F, 2); break;                                                    \
    case 3: CALL(F, 3); break;                                                    \
    default: CALL(F, 4); break;                                                   \
    }
#define CK_KV_DISPATCH(format, count, CALL)                                       \
    do {                                                                          \
        switch (format) {                                                         \
        case CK_KV_F32: { CK_KV_GROUPS(CK_KV_F32, count, CALL) } break;           \
        case CK_KV_F16: { CK_KV_GROUPS(CK_KV_F16, count, CALL) } break;           \
        case CK_KV_Q8: { CK_KV_GROUPS(CK_KV_Q8, count, CALL) } break;             \
        default: { CK_KV_GROUPS(CK_KV_BF16, count, CALL) } break;                 \
        }                                                                         \
    } while (0)

/// The columns d0..<head_dim of the weighted sum of V for G query heads, one lane at a time: the tail
/// the vector paths leave.
static inline __attribute__((always_inline)) void ck_kv_weighted_sum_tail(float *out, const float *weights,
                                                                           const ck_kvargs *a, ck_kv_format format,
                                                                           const int G, int d0) {
    const int dim = a->head_dim;
    const size_t n = (size_t)a->entry_count;
    for (; d0 < dim; d0++) {
        float s[CK_KV_MAX_GROUP] = {0};
        CK_KV_EACH_ENTRY(a, format, e, v, {
            const float x = ck_kv_element(v, d0, format);
            for (int g = 0; g < G; g++) s[g] += weights[g * n + e] * x;
        });
        for (int g = 0; g < G; g++) out[g * dim + d0] = s[g];
    }
}

/// `count` a multiple of 16.
void ck_f32_to_f16_avx2(uint16_t *out, const float *in, size_t count);
void ck_f32_to_f16_avx512(uint16_t *out, const float *in, size_t count);

/// Rows of x processed together while a tile of weights is in registers/L1 (M is walked in blocks
/// of this many rows so their int8 blocks stay in L1/L2 while W streams past).
#define CK_M_BLOCK 64

/// The walk of the row kernels over output columns [n_begin, n_end): blocks of CK_M_BLOCK rows; in each,
/// one column at a time over groups of up to 4 rows. `rows[r - 1]` computes r rows x 1 column, called as
/// (args, m0, n).
#define CK_WALK_ROWS(a, n_begin, n_end, rows)                                                          \
    for (int mb = 0; mb < (a)->M; mb += CK_M_BLOCK) {                                                    \
        const int m_end = mb + CK_M_BLOCK < (a)->M ? mb + CK_M_BLOCK : (a)->M;                           \
        for (int n = (n_begin); n < (n_end); n++)                                                         \
            for (int m = mb; m < m_end; m += 4) (rows)[(m_end - m < 4 ? m_end - m : 4) - 1]((a), m, n);  \
    }

/// The walk of the tiled products over output columns [n_begin, n_end): blocks of CK_M_BLOCK rows; in
/// each, tiles of 4 columns, then single columns, every tile over up to 4 rows. `tiles[0][r - 1]`
/// computes r rows x 1 column and `tiles[1][r - 1]` r rows x 4 columns, called as (args, m0, n0).
#define CK_WALK_TILES(a, n_begin, n_end, tiles)                                                         \
    for (int mb = 0; mb < (a)->M; mb += CK_M_BLOCK) {                                                    \
        const int m_end = mb + CK_M_BLOCK < (a)->M ? mb + CK_M_BLOCK : (a)->M;                           \
        int n = (n_begin);                                                                                \
        for (; n + 4 <= (n_end); n += 4)                                                                  \
            for (int m = mb; m < m_end; m += 4) (tiles)[1][(m_end - m < 4 ? m_end - m : 4) - 1]((a), m, n); \
        for (; n < (n_end); n++)                                                                          \
            for (int m = mb; m < m_end; m += 4) (tiles)[0][(m_end - m < 4 ? m_end - m : 4) - 1]((a), m, n); \
    }

/// Output columns per pool task when `count` columns are split over `threads`: a multiple of `granule`
/// (whole register tiles), about 8 tasks per thread so a thread the OS delays holds up little work.
static inline int ck_task_columns(int count, int granule, int threads) {
    int tasks = threads * 8;
    int per = (count + tasks - 1) / tasks;
    per = (per + granule - 1) / granule * granule;
    return per < granule ? granule : per;
}


/// Defines `void entry(const args_type *a, int n_begin, int n_end)`: the CK_WALK_TILES walk over eight
/// instantiations of `tile(a, MR, NR, m0, n0)`, MR in 1...4 rows by NR in {1, 4} columns (constants, so
/// each instantiation unrolls fully). The float-activation tiled kernels share it.
#define CK_DEFINE_TILED_MATMUL(entry, args_type, tile)                                                   \
    static void entry##_1x1(const args_type *a, int m0, int n0) { tile(a, 1, 1, m0, n0); }              \
    static void entry##_2x1(const args_type *a, int m0, int n0) { tile(a, 2, 1, m0, n0); }              \
    static void entry##_3x1(const args_type *a, int m0, int n0) { tile(a, 3, 1, m0, n0); }              \
    static void entry##_4x1(const args_type *a, int m0, int n0) { tile(a, 4, 1, m0, n0); }              \
    static void entry##_1x4(const args_type *a, int m0, int n0) { tile(a, 1, 4, m0, n0); }              \
    static void entry##_2x4(const args_type *a, int m0, int n0) { tile(a, 2, 4, m0, n0); }              \
    static void entry##_3x4(const args_type *a, int m0, int n0) { tile(a, 3, 4, m0, n0); }              \
    static void entry##_4x4(const args_type *a, int m0, int n0) { tile(a, 4, 4, m0, n0); }              \
    void entry(const args_type *a, int n_begin, int n_end) {                                             \
        static void (*const tiles[2][4])(const args_type *, int, int) = {                                \
            {entry##_1x1, entry##_2x1, entry##_3x1, entry##_4x1},                                        \
            {entry##_1x4, entry##_2x4, entry##_3x4, entry##_4x4},                                        \
        };                                                                                               \
        CK_WALK_TILES(a, n_begin, n_end, tiles)                                                          \
    }

/// Calls `name##_avx512`, `name##_avx2` or `name##_scalar` with the parenthesised `args` on a resolved
/// `path`: the run-time dispatch every kernel entry point shares.
#if defined(__x86_64__)
#define CK_CALL_PATH(path, name, args)                                            \
    do {                                                                          \
        if ((path) == CK_PATH_AVX512) name##_avx512 args;                         \
        else if ((path) == CK_PATH_AVX2) name##_avx2 args;                        \
        else name##_scalar args;                                                  \
    } while (0)
#else
#define CK_CALL_PATH(path, name, args) name##_scalar args
#endif

/// Defines `name##_scalar` and the entry point `name(out, in, count, path)` of a float -> 16-bit
/// conversion (bf16, f16): the vector paths (`name##_avx2`, `name##_avx512`) take whole groups of 16, and
/// `convert` (one value, the same bits) does the rest.
#define CK_DEFINE_F32_TO_16(name, kind, convert)                                   \
    static void name##_scalar(uint16_t *out, const float *in, size_t count) {       \
        for (size_t i = 0; i < count; i++) out[i] = convert(in[i]);                 \
    }                                                                               \
    void name(uint16_t *out, const float *in, size_t count, ck_path path) {         \
        const ck_path resolved = ck_resolve_path(path, kind);                       \
        const size_t vectored = resolved == CK_PATH_SCALAR ? 0 : count / 16 * 16;   \
        if (vectored > 0) CK_CALL_PATH(resolved, name, (out, in, vectored));        \
        name##_scalar(out + vectored, in + vectored, count - vectored);             \
    }

/// Defines `static void name(const void *args, int n_begin, int n_end, ck_path path)` (a
/// `ck_columns_fn`) over the column kernels `kernels##_scalar`, `_avx2` and `_avx512`, so each matmul
/// names its kernels instead of repeating the dispatch.
#define CK_COLUMN_DISPATCH(name, args_type, kernels)                               \
    static void name(const void *args, int n_begin, int n_end, ck_path path) {     \
        const args_type *a = (const args_type *)args;                              \
        CK_CALL_PATH(path, kernels, (a, n_begin, n_end));                          \
    }

/// Runs output columns [n_begin, n_end) of one product on `path`; `args` is the product's own argument
/// struct (each matmul's dispatch over its scalar / AVX2 / AVX-512 column kernels).
typedef void (*ck_columns_fn)(const void *args, int n_begin, int n_end, ck_path path);

/// The `_range` entry points: columns [n_begin, n_end) clamped to [0, N), run on this thread.
void ck_run_column_range(ck_columns_fn fn, const void *args, int N, int n_begin, int n_end, ck_path path);

/// Splits output columns [0, N) of one product over `pool` in tasks of whole `granule`-column tiles
/// (`ck_task_columns`), or runs them all on this thread when the pool has one thread, there would be one
/// task, or `worth_splitting` is 0 (too little work to wake the pool for). Every matmul splits this way.
void ck_split_columns(ck_columns_fn fn, const void *args, int N, int granule, ck_path path, ck_pool *pool,
                      int worth_splitting);

#endif
