import CKernels

/// Writes `count` floats from `input` into KV page memory at `output` as `element`: copied for
/// `.float32`, rounded to nearest even for `.bfloat16` and `.float16` (NaN stays NaN; half overflows to
/// infinity beyond ±65504), quantised per group of 32 for `.int8` (`count` a multiple of 32; scale
/// max |x| / 127 over the group's finite values, values rounded to nearest even). Every path gives
/// identical bits; `path` forces one for tests (a path the CPU lacks falls back to the best one it has).
/// `output` must hold `element.byteCount(values: count)` bytes.
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
    case .int8:
        precondition(count % 32 == 0, "int8 KV values are stored in whole groups of 32")
        ck_f32_to_q8kv(output, input, count)
    }
}
