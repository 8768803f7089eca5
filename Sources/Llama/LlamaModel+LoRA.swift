/// The forward pass's hook for HAMburger's merge-only LoRA (see `LoRAAdapter`).
extension LlamaModel {
    /// Adds `lora`'s delta of `target` in `layer` to the `rows` of `output`, computed from the same
    /// rows of `input` (the projection's own input). No-op without an adapter or flagged rows.
    @inline(__always)
    func addLoRA(_ lora: LoRAAdapter?, _ target: LoRAAdapter.Target, layer: Int, input: [Float], output: inout [Float], rows: [Int]) {
        guard let lora, !rows.isEmpty else { return }
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                lora.addDelta(target, layer: layer, input: i.baseAddress!, output: o.baseAddress!, rows: rows)
            }
        }
    }
}
