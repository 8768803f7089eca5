import Foundation
import Testing
@testable import HTTPServer

@Suite struct HTTPRequestParserLimitTests {
    func status(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> Int? {
        rejection(parse(bytes(text), limits: limits))?.status.code
    }

    @Test func requestLineTooLongIs431EvenBeforeItEnds() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 64)
        #expect(status("GET /" + String(repeating: "a", count: 100), limits: limits) == 431)
        #expect(status("GET /" + String(repeating: "a", count: 50) + " HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits) == nil)
    }

    @Test func headerSectionTooLargeIs431() {
        let limits = HTTPParserLimits(maxHeaderBytes: 100)
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 200) + "\r\n\r\n"
        #expect(status(big, limits: limits) == 431)
        let unterminated = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 200)
        #expect(status(unterminated, limits: limits) == 431)
        var many = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<20 { many += "X-\(index): 1\r\n" }
        #expect(status(many + "\r\n", limits: HTTPParserLimits(maxHeaderCount: 10)) == 431)
    }

    @Test func bodyTooLargeIs413() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: limits) == 413)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits) == nil)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n", limits: limits) == 413)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 413)
        #expect(HTTPParserLimits().maxBodyBytes == 4 * 1024 * 1024)
    }

    @Test func malformedRequestsAre400() {
        let cases = [
            "GET /\r\n\r\n",                                              // no version
            "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",                         // double space
            "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",                          // bad method token
            "GET nopath HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTQ/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",         // space in name
            "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n",         // control byte in value
            "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",       // obsolete folding
            "GET / HTTP/1.1\r\n\r\n",                                     // no Host
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ]
        for text in cases {
            #expect(status(text) == 400, "\(text.debugDescription)")
        }
    }

    @Test func repeatedEqualContentLengthsAreAccepted() {
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab") == nil)
    }

    @Test func methodNotAllowedIs405AndListsAllowed() {
        #expect(status("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n") == 405)
        #expect(status("PUT / HTTP/1.1\r\nHost: a\r\n\r\n", limits: HTTPParserLimits(allowedMethods: [.put])) == nil)
        #expect(HTTPParserLimits().allowHeaderValue == "GET, HEAD, OPTIONS, POST")
    }

    @Test func unsupportedVersionIs505() {
        #expect(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505)
        #expect(status("GET / HTTP/0.9\r\n\r\n") == 505)
        #expect(status("GET / HTTP/1.2\r\nHost: a\r\n\r\n") == nil)  // served as 1.1
    }

    @Test func unsupportedTransferCodingIs501() {
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501)
    }

    @Test func nothingIsParsedAfterARejection() {
        var parser = HTTPRequestParser()
        let first = parser.feed(bytes("BAD\r\n"))
        #expect(rejection(first)?.status == .badRequest)
        #expect(parser.feed(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEmpty)
        #expect(parser.hasFailed)
    }

    @Test func randomInputNeverCrashesAndEndsCleanly() {
        var generator = SplitMix64(seed: 42)
        let valid = HTTPRequestParserTests.samples.map(bytes)
        let alphabet = bytes("GETPOST /HTTP1.0:\r\n \tchunkedContent-Length0123456789abcdefTransfer-Encoding;=")
        for round in 0..<3000 {
            var input: [UInt8]
            switch round % 3 {
            case 0:  // uniform random bytes
                input = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            case 1:  // HTTP-ish alphabet
                input = (0..<Int(generator.next() % 300)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            default:  // mutations of valid requests
                input = valid[Int(generator.next() % UInt64(valid.count))]
                for _ in 0..<(1 + Int(generator.next() % 4)) where !input.isEmpty {
                    input[Int(generator.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            let limits = HTTPParserLimits(maxRequestLineBytes: 128, maxHeaderBytes: 256, maxBodyBytes: 64)
            let cut = input.isEmpty ? 0 : Int(generator.next() % UInt64(input.count))
            let events = parse(input, cuts: [cut], limits: limits)
            // Invariants: a rejection is final; body and end only follow a head.
            var inRequest = false
            for (index, event) in events.enumerated() {
                switch event {
                case .head: #expect(!inRequest); inRequest = true
                case .body(let data): #expect(inRequest); #expect(data.count <= 64)
                case .end: #expect(inRequest); inRequest = false
                case .rejected(let rejection):
                    #expect(index == events.count - 1)
                    #expect([400, 405, 413, 417, 431, 501, 505].contains(rejection.status.code))
                }
            }
        }
    }
}

/// A small deterministic generator so the fuzz test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
