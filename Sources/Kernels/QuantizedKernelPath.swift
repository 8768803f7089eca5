import CKernels

/// Which instruction-set path a kernel runs: the best one the CPU has (`.automatic`, what product code
/// uses) or a forced one, so tests can exercise every path on one machine. A forced path the CPU lacks
/// is refused with `QuantizedKernelError.pathUnsupported` rather than executed.
public enum KernelPath: Sendable, CaseIterable, CustomStringConvertible {
    /// The fastest path this CPU supports, found once from CPUID.
    case automatic
    /// Portable C with no intrinsics; runs everywhere.
    case scalar
    /// AVX2 + FMA + F16C (int8 products with vpmaddubsw; bf16 widened to f32).
    case avx2
    /// AVX2 with AVX-VNNI (VEX vpdpbusd on ymm): packed int8 products only; other kernels fall back to AVX2.
    case avxVNNI
    /// AVX-512 F/BW/VL with VNNI (int8 products with vpdpbusd) or with BF16 (vdpbf16ps).
    case avx512

    /// The kernel family a path is asked about: AVX-512 means VNNI for int8, BF16 for bf16, and F/BW/VL
    /// alone for attention over the KV pages.
    public enum Kernel: Sendable {
        case quantized
        /// int8 products over row-interleaved packed weights (`packedQuantizedMatmul`).
        case packed
        case bf16
        case kvCache
        /// Half-precision weights with Float activations (AVX-512 F, or AVX2 with F16C).
        case halfWeights
    }

    /// Whether this path can run on this CPU for kernels of `kernel`.
    public func isSupported(for kernel: Kernel) -> Bool {
        ck_path_supported(cValue, kernel.cValue) != 0
    }

    /// The concrete path `.automatic` resolves to for `kernel`.
    public static func best(for kernel: Kernel) -> KernelPath {
        switch ck_best_path(kernel.cValue) {
        case CK_PATH_AVX512: return .avx512
        case CK_PATH_AVX_VNNI: return .avxVNNI
        case CK_PATH_AVX2: return .avx2
        default: return .scalar
        }
    }

    public var description: String {
        switch self {
        case .automatic: return "automatic"
        case .scalar: return "scalar"
        case .avx2: return "AVX2"
        case .avxVNNI: return "AVX-VNNI"
        case .avx512: return "AVX-512"
        }
    }

    var cValue: ck_path {
        switch self {
        case .automatic: return CK_PATH_AUTO
        case .scalar: return CK_PATH_SCALAR
        case .avx2: return CK_PATH_AVX2
        case .avxVNNI: return CK_PATH_AVX_VNNI
        case .avx512: return CK_PATH_AVX512
        }
    }

    /// The C path after checking that the CPU supports it.
    func checked(for kernel: Kernel) throws -> ck_path {
        guard isSupported(for: kernel) else {
            throw QuantizedKernelError.pathUnsupported(path: self, kernel: kernel.name)
        }
        return cValue
    }
}

extension KernelPath.Kernel {
    var cValue: ck_kind {
        switch self {
        case .quantized: return CK_KIND_QUANTIZED
        case .packed: return CK_KIND_PACKED
        case .bf16: return CK_KIND_BF16
        case .kvCache, .halfWeights: return CK_KIND_FLOAT
        }
    }

    var name: String {
        switch self {
        case .quantized: return "int8"
        case .packed: return "packed int8"
        case .bf16: return "bf16"
        case .kvCache: return "KV cache attention"
        case .halfWeights: return "f16 weights"
        }
    }
}
