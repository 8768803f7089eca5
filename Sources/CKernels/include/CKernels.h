#ifndef CKERNELS_H
#define CKERNELS_H
/// Hand-vectorised C kernels. Pure, output-first functions; see Tests/KernelsTests for naive references.
///
/// Shapes: a product is `y[M][N] = x[M][K] * W[N][K]^T`: M activation rows (tokens), N output features
/// (weight rows), K input features. Every vector path is compiled with per-function target attributes
/// and chosen at run time from CPUID, so the library still runs on CPUs without AVX2 or AVX-512.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Code paths and CPU features

/// Which instruction-set path a kernel uses. `CK_PATH_AUTO` picks the best one the CPU supports.
/// A forced path that the CPU lacks is never executed: kernels fall back to the best supported path
/// below it (callers that must know use `ck_path_supported` first).
typedef enum {
    CK_PATH_AUTO = 0,
    /// Portable C, no intrinsics.
    CK_PATH_SCALAR = 1,
    /// AVX2 + FMA + F16C (int8: vpmaddubsw; bf16: widen to f32 and FMA).
    CK_PATH_AVX2 = 2,
    /// AVX2 with AVX-VNNI (VEX vpdpbusd on ymm): offered only for the packed int8 products
    /// (CK_KIND_PACKED); every other kind falls back from it to AVX2.
    CK_PATH_AVX_VNNI = 3,
    /// AVX-512 F/BW/VL with VNNI (int8: vpdpbusd) or with BF16 (bf16: vdpbf16ps).
    CK_PATH_AVX512 = 4,
} ck_path;

/// Which family of kernels a path is asked about: AVX-512 means VNNI for int8, BF16 for bf16, and
/// F/BW/VL alone for the float kernels.
typedef enum {
    CK_KIND_QUANTIZED = 0,
    CK_KIND_BF16 = 1,
    /// Float kernels that need only AVX-512 F/BW/VL (the KV cache attention kernels).
    CK_KIND_FLOAT = 2,
    /// The int8 products over row-interleaved packed weights (CKernelsPacked.h): AVX-512 means VNNI,
    /// and AVX-VNNI is a path of its own between AVX2 and AVX-512.
    CK_KIND_PACKED = 3,
} ck_kind;

/// 1 when `path` can run on this CPU (and OS) for kernels of `kind`; CK_PATH_AUTO is always supported.
int ck_path_supported(ck_path path, ck_kind kind);
/// The path CK_PATH_AUTO resolves to for `kind`.
ck_path ck_best_path(ck_kind kind);

// MARK: - Block formats (exactly as GGUF stores them)

/// Weight block formats. Each block holds 32 consecutive elements of one weight row.
typedef enum {
    /// 18 bytes: fp16 d, 16 bytes of nibbles (low nibbles = elements 0..15, high = 16..31); x = d*(q-8).
    CK_Q4_0 = 0,
    /// 20 bytes: fp16 d, fp16 m, 16 bytes of nibbles (same order as Q4_0); x = d*q + m.
    CK_Q4_1 = 1,
    /// 34 bytes: fp16 d, 32 int8; x = d*q.
    CK_Q8_0 = 2,
} ck_qformat;

/// Elements per block of every format (also the activation block).
#define CK_QBLOCK 32

/// Bytes per block of each format: the one definition, read by every C kernel, by `QuantizedFormat`
/// and by GGUF's `GGMLType`.
#define CK_Q4_0_BLOCK_BYTES 18
#define CK_Q4_1_BLOCK_BYTES 20
#define CK_Q8_0_BLOCK_BYTES 34

/// Bytes per block of `format`, or 0 for an unknown format (inlined: kernels call it with a
/// compile-time format, so it folds to a constant).
static inline __attribute__((always_inline)) size_t ck_qformat_block_bytes(ck_qformat format) {
    return format == CK_Q4_0 ? CK_Q4_0_BLOCK_BYTES
         : format == CK_Q4_1 ? CK_Q4_1_BLOCK_BYTES
         : format == CK_Q8_0 ? CK_Q8_0_BLOCK_BYTES
         : 0;
}

// MARK: - Activation quantization

/// Quantizes `rows` rows of `cols` floats (row stride `ldx` floats; `cols` a multiple of 32) to int8
/// blocks of 32 with one scale per block: for block b of row r, d = amax/127, q = round-half-even(x*127/amax)
/// in [-127, 127], and s = d * sum(q) (the block sum, needed for the Q4_1 `m` and zero-point terms).
/// Outputs: `qs[rows][cols]`, `d[rows][cols/32]`, `s[rows][cols/32]`. Every path gives identical bits.
void ck_quantize_rows_q8(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols,
                         ck_path path);

/// Largest magnitude of a two-digit activation: 127 * 128, so q = 128 * high + low with high in
/// [-127, 127] and low in [0, 127] (both int8).
#define CK_Q8X2_MAX 16256

/// Quantizes as `ck_quantize_rows_q8` but to about 15 bits in two int8 digits: per block of 32,
/// d = amax/16256, q = round-half-even(x/d) in [-16256, 16256], written as `hi` = floor(q/128) and
/// `lo` = q - 128*hi (both [rows][cols]), and s = d * sum(q). An integer product then takes two int8
/// dot products per weight chunk (128 * (w . hi) + w . lo) for 1/128 of the int8 rounding error.
/// Every path gives identical bits for finite input (AVX-512, else portable C).
void ck_quantize_rows_q8x2(int8_t *hi, int8_t *lo, float *d, float *s, const float *x, size_t ldx, int rows,
                           int cols, ck_path path);

// MARK: - Thread pool

/// A persistent pool of worker threads. The calling thread is thread 0, so a pool of T threads starts
/// T-1 pthreads once. A job is a number of tasks that the threads claim one at a time, so a thread the
/// OS has not scheduled simply runs fewer of them. Idle workers spin briefly after each job, then sleep
/// on a condition variable.
typedef struct ck_pool ck_pool;

/// A job body: called once for each task in 0..<task_count, on thread `thread` (0 is the caller) of the
/// pool; calls for different tasks may run at the same time.
typedef void (*ck_pool_fn)(void *context, int task, int thread);

/// Creates a pool of `thread_count` threads (<= 0: one per CPU this process may run on). Idle workers
/// spin `spin_microseconds` (< 0: default 100) before sleeping. NULL when a thread cannot be created.
ck_pool *ck_pool_create(int thread_count, int spin_microseconds);
/// Stops and joins the workers and frees the pool. NULL is allowed.
void ck_pool_destroy(ck_pool *pool);
/// Threads in the pool (including the caller's); 1 for NULL.
int ck_pool_thread_count(const ck_pool *pool);
/// Runs `fn` for every task in 0..<task_count across the pool and returns when all have returned.
/// Calls from several threads are serialized. With a NULL pool, or when called from inside a task, runs
/// every task inline on the calling thread (reported as thread 0).
void ck_pool_run(ck_pool *pool, int task_count, ck_pool_fn fn, void *context);
/// CPUs this process may run on (sched affinity), at least 1.
int ck_cpu_count(void);

// MARK: - bf16

/// Converts `count` floats to bf16 (round to nearest even; NaN stays NaN, quieted). Every path gives
/// identical bits, denormals included.
void ck_f32_to_bf16(uint16_t *out, const float *in, size_t count, ck_path path);

/// y[m*ldy + n] = sum_k x[m*ldx + k] * W[n*K + k] with x and W in bf16, accumulated in f32, for m < M,
/// n < N; any K >= 1. Work is split over N across `pool` (NULL: the calling thread only).
void ck_bf16_matmul(float *y, size_t ldy, const uint16_t *x, size_t ldx, const uint16_t *w, int M, int N, int K,
                    ck_path path, ck_pool *pool);

/// As `ck_bf16_matmul` but only for output columns n in [n_begin, n_end), on the calling thread.
void ck_bf16_matmul_range(float *y, size_t ldy, const uint16_t *x, size_t ldx, const uint16_t *w, int M, int N,
                          int K, int n_begin, int n_end, ck_path path);

// MARK: - f16 weights

/// y[m*ldy + n] = sum_k x[m*ldx + k] * W[n*K + k] with x in f32 and W in IEEE half (widened exactly to
/// f32 as it is read), accumulated in f32, for m < M, n < N; any K >= 1. For weights that are halves
/// already (a HAMburger adapter's): the same products as with their f32 copies, at half the bytes.
/// Work is split over N across `pool` (NULL: the calling thread only).
void ck_f16w_matmul(float *y, size_t ldy, const float *x, size_t ldx, const uint16_t *w, int M, int N, int K,
                    ck_path path, ck_pool *pool);

#ifdef __cplusplus
}
#endif

// Float-activation products with quantized weights (this header is the module's umbrella).
#include "CKernelsF32Act.h"
// Attention over f32 / bf16 / f16 KV pages.
#include "CKernelsKV.h"
// int8 products over weights repacked at load (several rows interleaved per block).
#include "CKernelsPacked.h"
#endif
