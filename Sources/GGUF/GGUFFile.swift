import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A GGUF (v2 or v3) model file, memory-mapped read-only: header, metadata, tensor directory.
///
/// Everything is validated while the directory is read, so a truncated or corrupt file fails here
/// with a `GGUFError` that says what is wrong, never later with a crash. Tensor bytes are not copied:
/// `tensorData(_:)` points into the mapping, which lives as long as this object.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment` (default 32).
    public let alignment: Int
    public let fileSize: Int

    private let mapping: UnsafeMutableRawPointer?
    private let tensorIndex: [String: Int]

    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        guard size >= 4 else { throw GGUFError.notGGUF(path: path) }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        do {
            try self.init(path: path, mapping: map, size: size)
        } catch {
            munmap(map, size)
            throw error
        }
    }

    /// Parses a GGUF image that is already in memory (used by tests on corrupted copies).
    public convenience init(bytes: [UInt8]) throws {
        let size = bytes.count
        guard let map = mmap(nil, max(size, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), map != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: "<memory>", reason: "mmap failed")
        }
        bytes.withUnsafeBytes { map.copyMemory(from: $0.baseAddress!, byteCount: size) }
        do {
            try self.init(path: "<memory>", mapping: map, size: size)
        } catch {
            munmap(map, max(size, 1))
            throw error
        }
    }

    private init(path: String, mapping: UnsafeMutableRawPointer, size: Int) throws(GGUFError) {
        self.path = path
        self.mapping = mapping
        self.fileSize = size
        var reader = ByteReader(base: UnsafeRawPointer(mapping), size: size)
        guard size >= 4, try reader.read(UInt32.self, "magic") == 0x4655_4747 else { throw .notGGUF(path: path) }
        version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let metadataCount = try reader.read(UInt64.self, "metadata count")
        // Each metadata entry needs at least 12 bytes, each tensor entry at least 24.
        guard metadataCount <= UInt64(reader.remaining / 12) else { throw .implausibleCount(what: "metadata", count: metadataCount) }
        guard tensorCount <= UInt64(reader.remaining / 24) else { throw .implausibleCount(what: "tensor", count: tensorCount) }

        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<Int(metadataCount) {
            let key = try reader.readString("metadata key")
            let type = try reader.read(UInt32.self, "type of '\(key)'")
            let value = try Self.readValue(&reader, type: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
        }
        self.metadata = metadata

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0 else {
                throw .wrongMetadataType(key: "general.alignment", expected: "a power of two")
            }
            alignment = v
        }
        self.alignment = alignment

        struct RawTensor { let name: String; let dims: [Int]; let type: GGMLType; let offset: UInt64 }
        var raw: [RawTensor] = []
        raw.reserveCapacity(Int(tensorCount))
        for _ in 0..<Int(tensorCount) {
            let name = try reader.readString("tensor name")
            let dimCount = try reader.read(UInt32.self, "dimension count of '\(name)'")
            guard (1...4).contains(dimCount) else { throw .invalidTensor(name: name, reason: "\(dimCount) dimensions (1 to 4 allowed)") }
            var dims: [Int] = []
            for _ in 0..<dimCount {
                let d = try reader.read(UInt64.self, "dimensions of '\(name)'")
                guard d > 0, d < (1 << 40) else { throw .invalidTensor(name: name, reason: "dimension \(d)") }
                dims.append(Int(d))
            }
            let typeID = try reader.read(UInt32.self, "type of '\(name)'")
            guard let type = GGMLType(rawValue: typeID) else { throw .unknownTensorType(name: name, typeID: typeID) }
            let offset = try reader.read(UInt64.self, "offset of '\(name)'")
            raw.append(RawTensor(name: name, dims: dims, type: type, offset: offset))
        }

        let dataStart = (reader.offset + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        for t in raw {
            let (elements, overflow) = t.dims.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements < (1 << 40) else { throw .invalidTensor(name: t.name, reason: "too many elements") }
            guard t.dims[0] % t.type.blockElementCount == 0 else {
                throw .invalidTensor(name: t.name, reason: "row length \(t.dims[0]) is not a multiple of the \(t.type) block size \(t.type.blockElementCount)")
            }
            let byteCount = elements / t.type.blockElementCount * t.type.blockByteCount
            guard t.offset % UInt64(alignment) == 0 else { throw .invalidTensor(name: t.name, reason: "offset \(t.offset) is not aligned to \(alignment)") }
            guard t.offset <= UInt64(size), dataStart + Int(t.offset) <= size - byteCount else {
                throw .tensorOutOfBounds(name: t.name, offset: Int(clamping: t.offset).addingReportingOverflow(dataStart).partialValue, byteCount: byteCount, fileSize: size)
            }
            guard index.updateValue(tensors.count, forKey: t.name) == nil else { throw .duplicateTensor(t.name) }
            tensors.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, fileOffset: dataStart + Int(t.offset), byteCount: byteCount))
        }
        self.tensors = tensors
        self.tensorIndex = index
    }

    deinit {
        if let mapping { munmap(mapping, max(fileSize, 1)) }
    }

    private static func readValue(_ reader: inout ByteReader, type: UInt32, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case 0: return .uint8(try reader.read(UInt8.self, what))
        case 1: return .int8(try reader.read(Int8.self, what))
        case 2: return .uint16(try reader.read(UInt16.self, what))
        case 3: return .int16(try reader.read(Int16.self, what))
        case 4: return .uint32(try reader.read(UInt32.self, what))
        case 5: return .int32(try reader.read(Int32.self, what))
        case 6: return .float32(try reader.readFloat(what))
        case 7:
            let b = try reader.read(UInt8.self, what)
            guard b <= 1 else { throw .wrongMetadataType(key: key, expected: "a bool (0 or 1), found \(b)") }
            return .bool(b == 1)
        case 8: return .string(try reader.readString(what))
        case 9:
            guard depth < 8 else { throw .invalidValueType(key: key, type: type) }
            let elementType = try reader.read(UInt32.self, "array type of '\(key)'")
            let count = try reader.read(UInt64.self, "array length of '\(key)'")
            // Every element takes at least one byte: a larger count cannot be real.
            guard count <= UInt64(reader.remaining) else { throw .implausibleCount(what: "array '\(key)'", count: count) }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                values.append(try readValue(&reader, type: elementType, key: key, depth: depth + 1))
            }
            return .array(values)
        case 10: return .uint64(try reader.read(UInt64.self, what))
        case 11: return .int64(try reader.read(Int64.self, what))
        case 12: return .float64(try reader.readDouble(what))
        default: throw .invalidValueType(key: key, type: type)
        }
    }

    /// The directory entry named `name`.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of a tensor inside the mapping (valid while this object lives).
    public func tensorData(_ tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: UnsafeRawPointer(mapping!) + tensor.fileOffset, count: tensor.byteCount)
    }

    /// The architecture name (`general.architecture`), e.g. "llama".
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    /// An integer metadata value that must be present.
    public func requiredInt(_ key: String) throws -> Int {
        guard let value = metadata[key] else { throw GGUFError.missingMetadata(key) }
        guard let v = value.intValue else { throw GGUFError.wrongMetadataType(key: key, expected: "an integer") }
        return v
    }

    /// A floating-point metadata value that must be present.
    public func requiredDouble(_ key: String) throws -> Double {
        guard let value = metadata[key] else { throw GGUFError.missingMetadata(key) }
        guard let v = value.doubleValue else { throw GGUFError.wrongMetadataType(key: key, expected: "a number") }
        return v
    }
}
