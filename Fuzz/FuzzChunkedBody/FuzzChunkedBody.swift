import Foundation
import FuzzSupport
import HTTPServer

/// Coverage-guided fuzzing of the parser's chunked transfer decoding: chunk-size lines, extensions,
/// chunk data and its CRLF, the last chunk, trailers, and the body-size limit across chunks.
///
/// The fuzz input is the bytes after a fixed `Transfer-Encoding: chunked` head (so every execution
/// reaches the decoder). Properties: no crash; a decoded body never exceeds the limit nor the bytes
/// fed; reading the same bytes whole or in many reads decodes the same body, trailers and status; and
/// a body that decoded re-encodes (one chunk per slice) to bytes that decode to the same body.
enum FuzzChunkedBody {
    static let limits = HTTPParserLimits(maxRequestLineBytes: 256, maxHeaderBytes: 512, maxHeaderCount: 16, maxBodyBytes: 4096)
    static let head = Array("POST /v1/completions HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

    static func run(_ input: UnsafeRawBufferPointer) {
        let (payload, cuts) = FuzzSplitter.pieces(of: input)
        var whole = HTTPRequestParser(limits: limits)
        let wholeEvents = whole.feed(head + payload)
        let wholeRequests = ParsedRequests(wholeEvents)
        var split = HTTPRequestParser(limits: limits)
        var splitEvents = split.feed(head)
        var start = 0
        for cut in cuts {
            splitEvents += split.feed(Array(payload[start..<cut]))
            start = cut
        }
        let splitRequests = ParsedRequests(splitEvents)
        fuzzCheck(wholeRequests == splitRequests, "whole \(wholeRequests) != split \(splitRequests)")
        guard let first = wholeRequests.requests.first else { return }
        fuzzCheck(first.body.count <= limits.maxBodyBytes, "body of \(first.body.count) bytes passed the limit")
        fuzzCheck(first.body.count <= payload.count, "body longer than the input")
        guard first.trailers != nil else { return }
        // Round trip: the decoded body, re-chunked, decodes to itself.
        var encoded = head
        var slices: [Data] = []
        for event in wholeEvents { if case .body(let data) = event { slices.append(data) } }
        for slice in slices where !slice.isEmpty {
            encoded += Array(String(slice.count, radix: 16).utf8) + [13, 10] + Array(slice) + [13, 10]
        }
        encoded += Array("0\r\n\r\n".utf8)
        var again = HTTPRequestParser(limits: limits)
        let reparsed = ParsedRequests(again.feed(encoded))
        fuzzCheck(reparsed.requests.count == 1 && reparsed.requests[0].body == first.body, "re-chunked body decoded differently")
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzChunkedBody.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The entry point SwiftPM links as `main` (see `FuzzDriver`).
@_cdecl("FuzzChunkedBody_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTestOneInput)
}
#else
@main
struct FuzzChunkedBodyReplay {
    static func main() { FuzzReplay.main("FuzzChunkedBody", FuzzChunkedBody.run) }
}
#endif
