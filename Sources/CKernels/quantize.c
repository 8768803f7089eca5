// Activation quantization to int8 blocks of 32 (one float scale and one float block sum per block):
// the portable reference path and the run-time dispatch.
#include "ck_internal.h"

void ck_quantize_rows_scalar(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols) {
    int nb = cols / CK_QBLOCK;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        int8_t *qr = qs + (size_t)r * cols;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * CK_QBLOCK;
            float amax = 0.0f;
            for (int i = 0; i < CK_QBLOCK; i++) {
                float a = __builtin_fabsf(xb[i]);
                amax = a > amax ? a : amax;  // the same NaN rule as vmaxps(a, amax)
            }
            float scale = amax / 127.0f;
            float inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
            int sum = 0;
            for (int i = 0; i < CK_QBLOCK; i++) {
                // Round half to even, like vcvtps2dq: adding 1.5 * 2^23 leaves no fraction bits, so the
                // FPU rounds (exact for |v| < 2^22), and needs no libm.
                const float magic = 12582912.0f;
                float rounded = (xb[i] * inverse + magic) - magic;
                // |x * inverse| <= 127 for finite input; NaN/inf input must not reach an undefined cast.
                int q = rounded >= -127.0f && rounded <= 127.0f ? (int)rounded : 0;
                qr[b * CK_QBLOCK + i] = (int8_t)q;
                sum += q;
            }
            d[(size_t)r * nb + b] = scale;
            s[(size_t)r * nb + b] = scale * (float)sum;
        }
    }
}

void ck_quantize_rows_q8(int8_t *qs, float *d, float *s, const float *x, size_t ldx, int rows, int cols,
                         ck_path path) {
    if (rows <= 0 || cols <= 0 || cols % CK_QBLOCK != 0) return;
    CK_CALL_PATH(ck_resolve_path(path, CK_KIND_QUANTIZED), ck_quantize_rows, (qs, d, s, x, ldx, rows, cols));
}

void ck_quantize_rows_q8x2(int8_t *hi, int8_t *lo, float *d, float *s, const float *x, size_t ldx, int rows,
                           int cols, ck_path path) {
    if (rows <= 0 || cols <= 0 || cols % CK_QBLOCK != 0) return;
#if defined(__x86_64__)
    if (ck_resolve_path(path, CK_KIND_QUANTIZED) == CK_PATH_AVX512) {
        ck_quantize_rows_q8x2_avx512(hi, lo, d, s, x, ldx, rows, cols);
        return;
    }
#else
    (void)path;
#endif
    const int nb = cols / CK_QBLOCK;
    const float top = (float)CK_Q8X2_MAX;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ldx;
        for (int b = 0; b < nb; b++) {
            const float *xb = xr + b * CK_QBLOCK;
            float amax = 0.0f;
            for (int i = 0; i < CK_QBLOCK; i++) {
                float a = __builtin_fabsf(xb[i]);
                amax = a > amax ? a : amax;
            }
            const float scale = amax / top, inverse = amax > 0.0f ? top / amax : 0.0f;
            int sum = 0;
            for (int i = 0; i < CK_QBLOCK; i++) {
                const float magic = 12582912.0f;  // round half to even, as ck_quantize_rows_q8
                const float rounded = (xb[i] * inverse + magic) - magic;
                const int q = rounded >= -top && rounded <= top ? (int)rounded : 0;
                const int low = q & 127;  // q = 128 * high + low with low in 0...127
                const size_t at = (size_t)r * cols + (size_t)b * CK_QBLOCK + i;
                hi[at] = (int8_t)((q - low) / 128);
                lo[at] = (int8_t)low;
                sum += q;
            }
            d[(size_t)r * nb + b] = scale;
            s[(size_t)r * nb + b] = scale * (float)sum;
        }
    }
}
