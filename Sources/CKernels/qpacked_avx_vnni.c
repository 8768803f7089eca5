// Packed int8 products, AVX-VNNI path (VEX vpdpbusd on ymm, for CPUs with AVX-VNNI but no AVX-512, or
// forced); the body is qpacked_ymm.h. Never AMX.
#include "qpacked_internal.h"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avxvnni"))), apply_to = function)
#define CK_P_YMM_VNNI 1
#define CK_P_YMM_ENTRY ck_qpacked_avx_vnni
#include "qpacked_ymm.h"
#pragma clang attribute pop
#endif
