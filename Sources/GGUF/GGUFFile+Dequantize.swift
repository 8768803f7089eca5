/// Turning tensor bytes into Float, for the types the server supports (F32, F16, BF16, Q8_0, Q4_0, Q4_1).
extension GGUFFile {
    /// All elements of `tensor` as Float, in file order (innermost dimension fastest).
    public func dequantize(_ tensor: GGUFTensorInfo) throws -> [Float] {
        guard tensor.type.isDequantizable else { throw GGUFError.unsupportedTensorType(name: tensor.name, type: tensor.type) }
        let source = tensorData(tensor)
        return [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            GGMLDequantizer.dequantize(type: tensor.type, source: source.baseAddress!, count: tensor.elementCount, into: buffer.baseAddress!)
            initialized = tensor.elementCount
        }
    }

    /// The tensor named `name`, dequantized; a missing tensor is an error.
    public func dequantize(named name: String) throws -> [Float] {
        guard let info = tensor(named: name) else { throw GGUFError.missingTensor(name) }
        return try dequantize(info)
    }
}

/// Pure block decoders for the ggml formats, output-first. `count` must be a multiple of the block size.
public enum GGMLDequantizer {
    /// Decodes `count` elements of `type` from `source` into `output`.
    public static func dequantize(type: GGMLType, source: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            output.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        case .f16:
            for i in 0..<count { output[i] = halfToFloat(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16:
            for i in 0..<count { output[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .q8_0:
            forEachBlock(type, source: source, count: count, output: output) { block, d, out in
                let qs = (block + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { out[j] = d * Float(qs[j]) }
            }
        case .q4_0:
            forEachBlock(type, source: source, count: count, output: output) { block, d, out in
                let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    out[j] = d * Float(Int(qs[j] & 0x0F) - 8)
                    out[j + 16] = d * Float(Int(qs[j] >> 4) - 8)
                }
            }
        case .q4_1:
            forEachBlock(type, source: source, count: count, output: output) { block, d, out in
                let m = halfToFloat(block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    out[j] = d * Float(qs[j] & 0x0F) + m
                    out[j + 16] = d * Float(qs[j] >> 4) + m
                }
            }
        default:
            preconditionFailure("dequantize called for \(type); check isDequantizable first")
        }
    }

    /// Walks the 32-element blocks of a quantized type: each block's bytes, its half-precision scale `d`
    /// (every format here starts with it) and where its 32 outputs go.
    @inline(__always)
    private static func forEachBlock(_ type: GGMLType, source: UnsafeRawPointer, count: Int, output: UnsafeMutablePointer<Float>,
                                     _ body: (UnsafeRawPointer, Float, UnsafeMutablePointer<Float>) -> Void) {
        for b in 0..<(count / 32) {
            let block = source + b * type.blockByteCount
            body(block, halfToFloat(block.loadUnaligned(as: UInt16.self)), output + b * 32)
        }
    }

    /// IEEE half -> Float (exact, including subnormals, infinities and NaN).
    @inline(__always)
    public static func halfToFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }
}
