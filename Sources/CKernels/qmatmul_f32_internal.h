#ifndef CK_QMATMUL_F32_INTERNAL_H
#define CK_QMATMUL_F32_INTERNAL_H
/// Shared by the float-activation quantized product's translation units; not part of the public header.
#include "ck_internal.h"
#include "CKernelsF32Act.h"

/// Arguments of one float-activation quantized product, shared by every path.
typedef struct {
    float *y;
    size_t ldy;
    const float *x;
    size_t ldx;
    const uint8_t *w;
    ck_qformat format;
    int M, N, K;
} ck_qf32args;

void ck_qmatmul_f32_scalar(const ck_qf32args *a, int n_begin, int n_end);
void ck_qmatmul_f32_avx2(const ck_qf32args *a, int n_begin, int n_end);
void ck_qmatmul_f32_avx512(const ck_qf32args *a, int n_begin, int n_end);

#endif
