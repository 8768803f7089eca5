#ifndef CKERNELS_F32ACT_H
#define CKERNELS_F32ACT_H
/// Products of float activations with block-quantized weights: y = x * W^T with x in f32 and W in its
/// GGUF blocks (Q4_0, Q4_1, Q8_0). Each weight block is decoded to 32 floats inside the kernel (never
/// stored as a matrix) and multiplied against the activation rows with f32 fused multiply-adds, so the
/// result matches a product with the dequantized float weights up to f32 rounding (no int8 rounding of x).
///
/// Summation order: for each (row m, column n) the order of the f32 operations is fixed per path: it does
/// not depend on M, on which register tile the row or column lands in, or on the thread count. A row
/// therefore gets the same bits alone or in any batch.
#include "CKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// y[m*ldy + n] = sum_k x[m*ldx + k] * W[n][k] for m < M, n < N, where W is N rows of K/32 blocks of
/// `format` (row n starts at byte n*(K/32)*block_bytes) and each weight is decoded as the format says
/// (Q4_0: d*(q-8); Q4_1: d*q + m, one fused multiply-add; Q8_0: d*q). K must be a multiple of 32;
/// invalid shapes do nothing. Work is split over N across `pool` (NULL: the calling thread only).
/// Paths: AVX-512 (F/BW/VL, offered on the CPUs where `ck_path_supported(CK_PATH_AVX512,
/// CK_KIND_QUANTIZED)` holds), AVX2 + FMA + F16C, or portable scalar; a forced path the CPU lacks falls
/// back as every kernel does. Paths may differ from one another in the last bits (their orders differ).
void ck_qmatmul_f32(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format, int M,
                    int N, int K, ck_path path, ck_pool *pool);

/// As `ck_qmatmul_f32` but only for output columns n in [n_begin, n_end), on the calling thread.
void ck_qmatmul_f32_range(float *y, size_t ldy, const float *x, size_t ldx, const void *w, ck_qformat format,
                          int M, int N, int K, int n_begin, int n_end, ck_path path);

#ifdef __cplusplus
}
#endif
#endif
