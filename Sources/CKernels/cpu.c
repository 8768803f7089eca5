// CPU feature detection (CPUID + XGETBV) and path resolution.
#include "ck_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

typedef struct {
    int avx2;           // AVX2 + FMA + F16C, with YMM state enabled by the OS
    int avx512_vnni;    // AVX-512 F/BW/VL + VNNI, with ZMM state enabled by the OS
    int avx512_bf16;    // AVX-512 F/BW/VL + BF16, with ZMM state enabled by the OS
    int avx512;         // AVX-512 F/BW/VL, with ZMM state enabled by the OS
    int avx_vnni;       // AVX2 (as above) + AVX-VNNI (VEX-encoded vpdpbusd), with YMM state
} ck_features;

static uint64_t ck_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static ck_features ck_detect(void) {
    ck_features f = {0, 0, 0, 0, 0};
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return f;
    uint64_t xcr0 = ck_xgetbv0();
    int ymm_state = (xcr0 & 0x6) == 0x6;
    int zmm_state = (xcr0 & 0xE6) == 0xE6;
    if (!ymm_state) return f;
    if (__get_cpuid_max(0, 0) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    int avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    int vnni = (c >> 11) & 1;
    unsigned a1 = 0, b1, c1, d1;
    if (a >= 1) __cpuid_count(7, 1, a1, b1, c1, d1);
    int bf16 = (a1 >> 5) & 1;
    int avx_vnni = (a1 >> 4) & 1;
    f.avx2 = avx2 && fma && f16c;
    f.avx_vnni = f.avx2 && avx_vnni;
    int avx512 = f.avx2 && zmm_state && avx512f && avx512bw && avx512vl;
    f.avx512_vnni = avx512 && vnni;
    f.avx512_bf16 = avx512 && bf16;
    f.avx512 = avx512;
    return f;
}

static ck_features ck_features_once(void) {
    // Idempotent and race-benign: every thread computes the same value.
    static volatile int done = 0;
    static ck_features cached;
    if (!done) {
        cached = ck_detect();
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    return cached;
}

int ck_path_supported(ck_path path, ck_kind kind) {
    ck_features f = ck_features_once();
    switch (path) {
    case CK_PATH_AUTO:
    case CK_PATH_SCALAR: return 1;
    case CK_PATH_AVX2: return f.avx2;
    case CK_PATH_AVX_VNNI: return kind == CK_KIND_PACKED && f.avx_vnni;
    case CK_PATH_AVX512:
        switch (kind) {
        case CK_KIND_BF16: return f.avx512_bf16;
        case CK_KIND_FLOAT: return f.avx512;
        default: return f.avx512_vnni;
        }
    }
    return 0;
}
#else
int ck_path_supported(ck_path path, ck_kind kind) {
    (void)kind;
    return path == CK_PATH_AUTO || path == CK_PATH_SCALAR;
}
#endif

ck_path ck_best_path(ck_kind kind) {
    if (ck_path_supported(CK_PATH_AVX512, kind)) return CK_PATH_AVX512;
    if (ck_path_supported(CK_PATH_AVX_VNNI, kind)) return CK_PATH_AVX_VNNI;
    if (ck_path_supported(CK_PATH_AVX2, kind)) return CK_PATH_AVX2;
    return CK_PATH_SCALAR;
}

ck_path ck_resolve_path(ck_path path, ck_kind kind) {
    if (path == CK_PATH_AUTO) return ck_best_path(kind);
    for (int p = path; p > CK_PATH_SCALAR; p--) {
        if (ck_path_supported((ck_path)p, kind)) return (ck_path)p;
    }
    return CK_PATH_SCALAR;
}
