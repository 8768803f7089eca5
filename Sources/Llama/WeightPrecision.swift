/// How the linear-layer weights are kept in memory after load (operator configuration `weights`).
public enum WeightPrecision: String, Sendable, CaseIterable {
    /// As the GGUF stores them (Q4_1 / Q8_0 / Q4_0 blocks used in place from the mapped file; float
    /// tensors stay float). Resident memory close to the file size; the kernels decode the blocks on the
    /// fly against Float activations, so results match the dequantized-float reference.
    case native
    /// The same blocks repacked at load (16 rows interleaved per block) for integer (VNNI) dot products
    /// against activations quantized to int8 per block of 32; the LM head (Q8_0 in SmolLM2) read as a
    /// Q4_1 copy with each step's 64 best logits recomputed against float activations. The fastest one-row
    /// decode, but below the quality bar: int8 rounding of the activations moves SmolLM2's near-tied top
    /// logits (97.0% teacher-forced top-1 agreement with `native` on bench/texts/gpl-3.0.txt) and the
    /// copy's errors move the perplexity (+0.5%).
    case nativeInt8 = "native-int8"
    /// The repacked blocks (LM head included) against activations quantized to about 15 bits in two int8
    /// digits per value (two integer dot products per weight chunk, 1/128 of int8's rounding error): as
    /// fast as `nativeInt8` at one row, whose products wait on memory, and within the quality bar of
    /// `native` (perplexity change < 0.5%, top-1 agreement >= 98%).
    case nativeInt8x2 = "native-int8x2"
    /// Dequantized and rounded to bf16 (2 bytes per weight); bf16 kernels.
    case bf16
    /// Dequantized to Float (4 bytes per weight); OpenBLAS sgemm.
    case f32
}
