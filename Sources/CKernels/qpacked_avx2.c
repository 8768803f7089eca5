// Packed int8 products, AVX2 path (vpmaddubsw + vpmaddwd); the body is qpacked_ymm.h.
#include "qpacked_internal.h"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define CK_P_YMM_VNNI 0
#define CK_P_YMM_ENTRY ck_qpacked_avx2
#include "qpacked_ymm.h"
#pragma clang attribute pop
#endif
