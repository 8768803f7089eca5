/// A bounds-checked little-endian cursor over the mapped file. Every read checks that the bytes exist
/// and throws `GGUFError.truncated` naming what was being read otherwise.
struct ByteReader {
    let base: UnsafeRawPointer
    let size: Int
    var offset: Int = 0

    init(base: UnsafeRawPointer, size: Int) {
        self.base = base
        self.size = size
    }

    var remaining: Int { size - offset }

    mutating func require(_ count: Int, _ what: String) throws(GGUFError) {
        if count < 0 || count > remaining {
            throw .truncated(what: what, offset: offset, needed: count, fileSize: size)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size, what)
        let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ what: String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, what))
    }

    mutating func readDouble(_ what: String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, what))
    }

    mutating func readString(_ what: String) throws(GGUFError) -> String {
        let length = try read(UInt64.self, what + " length")
        guard length <= UInt64(remaining) else {
            throw .truncated(what: what, offset: offset, needed: Int(clamping: length), fileSize: size)
        }
        let count = Int(length)
        let start = offset
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: count)
        offset += count
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalidString(offset: start) }
        return s
    }
}
