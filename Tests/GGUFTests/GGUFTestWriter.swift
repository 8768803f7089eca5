import Foundation

/// Builds small GGUF images byte by byte (test-only), so the reader can be checked on every value type
/// and on deliberately broken files.
struct GGUFTestWriter {
    var bytes: [UInt8] = []
    var version: UInt32 = 3
    var alignment = 32

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }

    /// A tensor to place in the file: GGUF dims (innermost first), type id, raw data.
    struct Tensor { var name: String; var dims: [Int]; var type: UInt32; var data: [UInt8] }

    /// A full file: header, `metadata` (already-encoded key/type/value records), tensor directory, data.
    static func file(version: UInt32 = 3, metadataCount: Int, metadata: [UInt8], tensors: [Tensor], alignment: Int = 32) -> [UInt8] {
        var w = GGUFTestWriter()
        w.bytes += Array("GGUF".utf8)
        w.u32(version)
        w.u64(UInt64(tensors.count))
        w.u64(UInt64(metadataCount))
        w.bytes += metadata
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            w.string(t.name)
            w.u32(UInt32(t.dims.count))
            for d in t.dims { w.u64(UInt64(d)) }
            w.u32(t.type)
            w.u64(UInt64(off))
        }
        while w.bytes.count % alignment != 0 { w.u8(0) }
        for t in tensors {
            w.bytes += t.data
            while w.bytes.count % alignment != 0 { w.u8(0) }
        }
        return w.bytes
    }
}
