import CZlib
import Foundation

/// One-shot gzip compression of a response body with zlib (RFC 1952 framing via windowBits 15+16).
enum GzipEncoder {
    /// The gzip-coded `data`, or nil when zlib fails (the caller then sends the body uncompressed).
    static func compress(_ data: Data, level: Int32 = 6) -> Data? {
        var stream = z_stream()
        guard czlib_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(data.count))) + 32
        var output = Data(count: bound)
        var source = data
        let status: Int32 = source.withUnsafeMutableBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.count = Int(stream.total_out)
        return output
    }
}
