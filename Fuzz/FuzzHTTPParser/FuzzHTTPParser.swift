import Foundation
import FuzzSupport
import HTTPServer

/// Coverage-guided fuzzing of `HTTPRequestParser` (request line, headers, framing, pipelining).
///
/// Properties: the parser never crashes; it emits nothing after `.rejected`; every request's events
/// run head, body..., end; and feeding the same bytes whole or cut into many reads yields the same
/// requests (heads, concatenated bodies, trailers, rejection statuses).
enum FuzzHTTPParser {
    /// Small limits, so inputs reach the 413/431 paths too.
    static let limits = HTTPParserLimits(maxRequestLineBytes: 256, maxHeaderBytes: 512, maxHeaderCount: 16, maxBodyBytes: 1024)

    static func run(_ input: UnsafeRawBufferPointer) {
        let (payload, cuts) = FuzzSplitter.pieces(of: input)
        var whole = HTTPRequestParser(limits: limits)
        let wholeEvents = ParsedRequests(whole.feed(payload))
        var split = HTTPRequestParser(limits: limits)
        var splitEvents: [HTTPRequestParser.Event] = []
        var start = 0
        for cut in cuts {
            splitEvents += split.feed(Array(payload[start..<cut]))
            start = cut
        }
        let splitRequests = ParsedRequests(splitEvents)
        fuzzCheck(wholeEvents == splitRequests, "whole \(wholeEvents) != split \(splitRequests)")
        fuzzCheck(whole.hasFailed == split.hasFailed, "failed state differs")
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHTTPParser.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The entry point SwiftPM links as `main` (see `FuzzDriver`).
@_cdecl("FuzzHTTPParser_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTestOneInput)
}
#else
@main
struct FuzzHTTPParserReplay {
    static func main() { FuzzReplay.main("FuzzHTTPParser", FuzzHTTPParser.run) }
}
#endif
