/// How the linear-layer weights are kept in memory after load (operator configuration `weights`).
public enum WeightPrecision: String, Sendable, CaseIterable {
    /// As the GGUF stores them (Q4_1 / Q8_0 / Q4_0 blocks used in place from the mapped file; float
    /// tensors stay float). Resident memory close to the file size; int8 x quantized kernels.
    case native
    /// Dequantized and rounded to bf16 (2 bytes per weight); bf16 kernels.
    case bf16
    /// Dequantized to Float (4 bytes per weight); OpenBLAS sgemm.
    case f32
}
