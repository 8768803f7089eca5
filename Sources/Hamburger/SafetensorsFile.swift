import Foundation
import Llama

/// A safetensors file read whole: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data. F32, F16 and BF16 tensors
/// are converted to Float on request. Every offset is checked, so a truncated or damaged file is
/// refused with `HamburgerError.invalidSafetensors` instead of read out of bounds.
public struct SafetensorsFile: @unchecked Sendable {
    /// One tensor's entry in the header.
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range within the data section (after the header).
        public var begin: Int
        public var end: Int

        /// Bytes per element of `dtype`, nil for a dtype this reader does not convert.
        public var elementSize: Int? {
            switch dtype {
            case "F32": return 4
            case "F16", "BF16": return 2
            default: return nil
            }
        }
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    /// The header's `__metadata__` strings.
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    public init(path: String) throws(HamburgerError) {
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .unreadableFile(path: path, reason: error.localizedDescription)
        }
        try self.init(path: path, bytes: bytes)
    }

    /// Parses `bytes` (the whole file) named `path` in messages.
    public init(path: String, bytes: Data) throws(HamburgerError) {
        self.path = path
        func bad(_ reason: String) -> HamburgerError { .invalidSafetensors(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw bad("the file has \(bytes.count) bytes, fewer than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw bad("the header claims \(headerLength) bytes but only \(bytes.count - 8) follow (truncated file?)")
        }
        let start = 8 + Int(headerLength)
        let headerBytes = bytes[(bytes.startIndex + 8) ..< (bytes.startIndex + start)]
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let dataLength = bytes.count - start
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (key, item) in value as? [String: Any] ?? [:] { metadata[key] = item as? String ?? "\(item)" }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2 else {
                throw bad("tensor '\(name)' has no dtype, shape or data_offsets")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw bad("tensor '\(name)' has a negative size or offsets \(offsets)")
            }
            guard offsets[1] <= dataLength else {
                throw bad("tensor '\(name)' ends at byte \(offsets[1]) of the data but the data has \(dataLength) bytes (truncated file?)")
            }
            let info = TensorInfo(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
            if let size = info.elementSize, info.elementCount * size != info.end - info.begin {
                throw bad("tensor '\(name)' has \(info.end - info.begin) bytes for shape \(shape) of \(dtype)")
            }
            tensors[name] = info
        }
        self.tensors = tensors
        self.metadata = metadata
        data = bytes
        dataStart = start
    }

    /// The tensor's values as Float, row-major; checked against `shape`.
    public func floats(_ name: String, shape: [Int]) throws(HamburgerError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(path: path, name: name) }
        guard info.shape == shape else { throw .tensorShape(path: path, name: name, expected: shape, found: info.shape) }
        guard info.elementSize != nil else { throw .unsupportedTensorType(path: path, name: name, dtype: info.dtype) }
        let count = info.elementCount
        let base = data.startIndex + dataStart + info.begin
        var values = [Float](repeating: 0, count: count)
        let dtype = info.dtype
        data[base ..< base + (info.end - info.begin)].withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { out in
                switch dtype {
                case "F32":
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case "F16":
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
                default: // BF16
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
                }
            }
        }
        return values
    }

    /// A `[out][in]` matrix as a linear weight: F16 tensors kept as halves (products widen them exactly,
    /// reading half the bytes of a Float copy), F32 and BF16 as Float.
    public func linearWeight(_ name: String, outputWidth: Int, inputWidth: Int) throws(HamburgerError) -> LinearWeight {
        guard let info = tensors[name], info.dtype == "F16" else {
            return .float(try floats(name, shape: [outputWidth, inputWidth]), outputWidth: outputWidth, inputWidth: inputWidth)
        }
        guard info.shape == [outputWidth, inputWidth] else {
            throw .tensorShape(path: path, name: name, expected: [outputWidth, inputWidth], found: info.shape)
        }
        let count = info.elementCount
        let base = data.startIndex + dataStart + info.begin
        var bits = [UInt16](repeating: 0, count: count)
        data[base ..< base + 2 * count].withUnsafeBytes { raw in
            for i in 0..<count { bits[i] = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        }
        return .half(bits, outputWidth: outputWidth, inputWidth: inputWidth)
    }
}
