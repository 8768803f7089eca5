// Re-quantization of weight blocks to Q4_1 at load: a smaller copy of a matrix for products whose
// results are checked afterwards (the LM head's shortlist), never a replacement of the file's weights.
#include "ck_internal.h"
#include <math.h>

/// The 32 weights of one block of `format`, decoded as the format says.
static void ck_decode_block(float *x, const uint8_t *block, ck_qformat format) {
    const float d = ck_half_to_float(ck_load_u16(block));
    switch (format) {
    case CK_Q4_0:
        for (int i = 0; i < 16; i++) {
            x[i] = d * (float)((block[2 + i] & 0x0F) - 8);
            x[i + 16] = d * (float)((block[2 + i] >> 4) - 8);
        }
        break;
    case CK_Q4_1: {
        const float m = ck_half_to_float(ck_load_u16(block + 2));
        for (int i = 0; i < 16; i++) {
            x[i] = d * (float)(block[4 + i] & 0x0F) + m;
            x[i + 16] = d * (float)(block[4 + i] >> 4) + m;
        }
        break;
    }
    default:
        for (int i = 0; i < 32; i++) x[i] = d * (float)(int8_t)block[2 + i];
        break;
    }
}

int ck_requantize_q4_1(void *out, const void *w, ck_qformat format, int N, int K) {
    if (N <= 0 || K <= 0 || K % CK_QBLOCK != 0 || ck_qformat_block_bytes(format) == 0 || !out || !w) return 0;
    const size_t blocks = (size_t)N * (size_t)(K / CK_QBLOCK), bb = ck_qformat_block_bytes(format);
    for (size_t b = 0; b < blocks; b++) {
        float x[CK_QBLOCK];
        ck_decode_block(x, (const uint8_t *)w + b * bb, format);
        float lo = x[0], hi = x[0];
        for (int i = 1; i < CK_QBLOCK; i++) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
        // The quants are chosen against the stored (f16-rounded) scale and offset.
        const uint16_t dh = ck_float_to_half((hi - lo) / 15.0f), mh = ck_float_to_half(lo);
        const float d = ck_half_to_float(dh), m = ck_half_to_float(mh);
        const float inverse = d > 0.0f ? 1.0f / d : 0.0f;
        uint8_t q[CK_QBLOCK];
        for (int i = 0; i < CK_QBLOCK; i++) {
            const float v = nearbyintf((x[i] - m) * inverse);
            q[i] = (uint8_t)(v < 0.0f ? 0.0f : v > 15.0f ? 15.0f : v);
        }
        uint8_t *dst = (uint8_t *)out + b * CK_Q4_1_BLOCK_BYTES;
        memcpy(dst, &dh, 2);
        memcpy(dst + 2, &mh, 2);
        for (int i = 0; i < 16; i++) dst[4 + i] = (uint8_t)(q[i] | q[i + 16] << 4);
    }
    return 1;
}
