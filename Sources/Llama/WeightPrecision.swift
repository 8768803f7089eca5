/// How the linear-layer weights are kept in memory after load (operator configuration `weights`).
public enum WeightPrecision: String, Sendable, CaseIterable {
    /// As the GGUF stores them (Q4_1 / Q8_0 / Q4_0 blocks used in place from the mapped file; float
    /// tensors stay float). Resident memory close to the file size; the kernels decode the blocks on the
    /// fly against Float activations, so results match the dequantized-float reference.
    case native
    /// As `native`, but activations are quantized to int8 per block of 32 for integer (VNNI) dot
    /// products: faster at large batches, yet less exact (it changes some greedy outputs of SmolLM2,
    /// whose top logits are often within 0.01 of each other).
    case nativeInt8 = "native-int8"
    /// Dequantized and rounded to bf16 (2 bytes per weight); bf16 kernels.
    case bf16
    /// Dequantized to Float (4 bytes per weight); OpenBLAS sgemm.
    case f32
}
