import CKernels

/// A GGUF block-quantized weight format. Every block packs 32 consecutive elements of one weight row,
/// byte for byte as GGUF (and llama.cpp) store it, so weights are used straight from the mapped file.
public enum QuantizedFormat: Sendable, CaseIterable, CustomStringConvertible {
    /// 18 bytes: fp16 d, 16 bytes of nibbles (low nibbles are elements 0..15, high 16..31); x = d*(q-8).
    case q4_0
    /// 20 bytes: fp16 d, fp16 m, 16 bytes of nibbles (same order as Q4_0); x = d*q + m.
    case q4_1
    /// 34 bytes: fp16 d, 32 int8; x = d*q.
    case q8_0

    /// Elements per block (the same for every format, and for quantized activations).
    public static let blockElementCount = 32

    /// Bytes per block of 32 elements.
    public var blockByteCount: Int { Int(ck_qformat_block_bytes(cValue)) }

    /// The ggml type id GGUF uses for this format (Q4_0 = 2, Q4_1 = 3, Q8_0 = 8).
    public var ggmlTypeID: UInt32 {
        switch self {
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 8
        }
    }

    /// The format with ggml type id `ggmlTypeID`, or nil for any other type (F32, F16, K-quants...).
    public init?(ggmlTypeID: UInt32) {
        guard let format = QuantizedFormat.allCases.first(where: { $0.ggmlTypeID == ggmlTypeID }) else { return nil }
        self = format
    }

    public var description: String {
        switch self {
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        }
    }

    var cValue: ck_qformat {
        switch self {
        case .q4_0: return CK_Q4_0
        case .q4_1: return CK_Q4_1
        case .q8_0: return CK_Q8_0
        }
    }
}
