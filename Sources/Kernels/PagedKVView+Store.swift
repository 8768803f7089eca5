import CKernels

/// Writes `count` floats from `input` into KV page memory at `output` as `element`: copied for
/// `.float32`, rounded to nearest even for `.bfloat16` and `.float16` (NaN stays NaN; half overflows to
/// infinity beyond ±65504). Every path gives identical bits; `path` forces one for tests (a path the
/// CPU lacks falls back to the best one it has). `output` must hold `count * element.byteWidth` bytes.
public func storeKVElements(output: UnsafeMutableRawPointer, input: UnsafePointer<Float>, count: Int,
                            element: PagedKVView.Element, path: KernelPath = .automatic) {
    guard count > 0 else { return }
    switch element {
    case .float32:
        output.copyMemory(from: input, byteCount: count * MemoryLayout<Float>.stride)
    case .bfloat16:
        ck_f32_to_bf16(output.assumingMemoryBound(to: UInt16.self), input, count, path.cValue)
    case .float16:
        ck_f32_to_f16(output.assumingMemoryBound(to: UInt16.self), input, count, path.cValue)
    }
}
