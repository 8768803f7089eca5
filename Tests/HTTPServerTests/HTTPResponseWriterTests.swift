import CZlib
import Foundation
import Testing
@testable import HTTPServer

/// Inflates gzip data with zlib (the test's independent check of the server's gzip output).
func gunzip(_ data: Data) -> Data? {
    var stream = z_stream()
    guard czlib_inflate_init_gzip(&stream) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var output = Data()
    var input = data
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var status: Int32 = Z_OK
    input.withUnsafeMutableBytes { source in
        stream.next_in = source.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = uInt(source.count)
        repeat {
            status = buffer.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            output.append(contentsOf: buffer[0..<(buffer.count - Int(stream.avail_out))])
        } while status == Z_OK
    }
    return status == Z_STREAM_END ? output : nil
}

@Suite struct HTTPResponseWriterTests {
    let writer = HTTPResponseWriter()

    @Test func fixedLengthHead() {
        let head = String(decoding: writer.head(status: .ok, headers: ["Content-Type": "text/plain", "Content-Length": "999",
                                                                       "Connection": "keep-alive"],
                                                framing: .length(5), keepAlive: true, date: "D"), as: UTF8.self)
        #expect(head == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: D\r\nContent-Length: 5\r\n\r\n")
    }

    @Test func chunkedClosingHeadAndChunks() {
        let head = String(decoding: writer.head(status: 201, headers: [:], framing: .chunked, keepAlive: false, date: "D"),
                          as: UTF8.self)
        #expect(head == "HTTP/1.1 201 Created\r\nDate: D\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        #expect(writer.chunk(Data(repeating: 0x41, count: 26)) == Data("1a\r\n".utf8) + Data(repeating: 0x41, count: 26) + Data("\r\n".utf8))
        #expect(writer.chunk(Data()).isEmpty)
        #expect(writer.lastChunk() == Data("0\r\n\r\n".utf8))
        #expect(writer.lastChunk(trailers: ["X-Sum": "1"]) == Data("0\r\nX-Sum: 1\r\n\r\n".utf8))
    }

    @Test func http10KeepAliveIsAnnounced() {
        let head = String(decoding: writer.head(status: .ok, headers: [:], framing: .length(0), keepAlive: true,
                                                requestVersion: .http1_0, date: "D"), as: UTF8.self)
        #expect(head.contains("Connection: keep-alive\r\n"))
    }

    @Test func headerInjectionIsStripped() {
        let head = String(decoding: writer.head(status: .ok, headers: ["X-Evil": "a\r\nSet-Cookie: b"], framing: .length(0),
                                                keepAlive: true, date: "D"), as: UTF8.self)
        #expect(head.contains("X-Evil: aSet-Cookie: b\r\n"))
    }

    @Test func imfFixdate() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func gzipRoundTrip() throws {
        let original = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let compressed = try #require(GzipEncoder.compress(original))
        #expect(compressed.count < original.count)
        #expect(compressed.prefix(2) == Data([0x1F, 0x8B]))
        #expect(gunzip(compressed) == original)
    }

    @Test func acceptEncodingQValues() {
        func request(_ value: String) -> HTTPRequest {
            HTTPRequest(head: HTTPRequestHead(method: .get, target: "/", version: .http1_1,
                                              headers: ["Host": "a", "Accept-Encoding": value], bodyFraming: .none))
        }
        #expect(request("gzip").acceptsGzip)
        #expect(request("br;q=1.0, GZIP;q=0.5").acceptsGzip)
        #expect(!request("gzip;q=0").acceptsGzip)
        #expect(!request("identity").acceptsGzip)
    }
}
