import Foundation
import Testing
@testable import HTTPServer

/// Feeds `bytes` in pieces cut at `cuts` and returns the events, with adjacent body slices merged
/// (so that results from different splits compare equal).
func parse(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequestParser.Event] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPRequestParser.Event] = []
    var start = 0
    for cut in cuts + [bytes.count] where cut >= start {
        events += parser.feed(Array(bytes[start..<cut]))
        start = cut
    }
    return mergeBodies(events)
}

func mergeBodies(_ events: [HTTPRequestParser.Event]) -> [HTTPRequestParser.Event] {
    var merged: [HTTPRequestParser.Event] = []
    for event in events {
        if case .body(let more) = event, case .body(let earlier)? = merged.last {
            merged[merged.count - 1] = .body(earlier + more)
        } else {
            merged.append(event)
        }
    }
    return merged
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func rejection(_ events: [HTTPRequestParser.Event]) -> HTTPRequestRejection? {
    for case .rejected(let rejection) in events { return rejection }
    return nil
}

@Suite struct HTTPRequestParserTests {
    static let samples: [String] = [
        "GET /v1/models?verbose=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
        "POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"prompt\":\"hi!\"}\n",
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Checksum: abc\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\nHost: a\n\n",
    ]

    @Test func everyByteSplitGivesTheSameEvents() {
        for sample in Self.samples {
            let input = bytes(sample)
            let whole = parse(input)
            #expect(rejection(whole) == nil, "\(sample)")
            for cut in 0...input.count {
                #expect(parse(input, cuts: [cut]) == whole, "cut at \(cut) of \(sample)")
            }
            let oneByteAtATime = parse(input, cuts: Array(0...input.count))
            #expect(oneByteAtATime == whole)
        }
    }

    @Test func parsesRequestLineHeadersAndQuery() throws {
        let events = parse(bytes(Self.samples[0]))
        guard case .head(let head) = events.first else { Issue.record("no head"); return }
        #expect(head.method == .get)
        #expect(head.target == "/v1/models?verbose=1")
        #expect(head.path == "/v1/models")
        #expect(head.query == "verbose=1")
        #expect(head.version == .http1_1)
        #expect(head.headers["host"] == "localhost")
        #expect(head.headers["ACCEPT"] == "*/*")
        #expect(head.wantsKeepAlive)
        #expect(events.last == .end(trailers: HTTPHeaders()))
        #expect(events.count == 2)
    }

    @Test func repeatedHeadersAreAllKept() {
        let events = parse(bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Tag: one\r\nx-tag:two  \r\nAccept-Encoding: br, gzip\r\n\r\n"))
        guard case .head(let head) = events.first else { Issue.record("no head"); return }
        #expect(head.headers.values(for: "X-TAG") == ["one", "two"])
        #expect(head.headers["x-tag"] == "one")
        #expect(head.headers.tokens(for: "accept-encoding") == ["br", "gzip"])
    }

    @Test func contentLengthBody() {
        let events = parse(bytes(Self.samples[1]))
        #expect(events.count == 3)
        #expect(events[1] == .body(Data("{\"prompt\":\"hi!\"}\n".utf8)))
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let events = parse(bytes(Self.samples[2]))
        guard case .head(let head) = events.first else { Issue.record("no head"); return }
        #expect(head.bodyFraming == .chunked)
        #expect(events[1] == .body(Data("hello world!".utf8)))
        #expect(events[2] == .end(trailers: ["X-Checksum": "abc"]))
    }

    @Test func pipelinedRequestsComeOutInOrder() {
        let events = parse(bytes(Self.samples[4]))
        let targets = events.compactMap { event -> String? in
            if case .head(let head) = event { return head.target }
            return nil
        }
        #expect(targets == ["/a", "/b", "/c"])
        #expect(events.filter { if case .end = $0 { return true } else { return false } }.count == 3)
        #expect(events.contains(.body(Data("xyz".utf8))))
    }

    @Test func keepAliveRules() {
        func head(_ text: String) -> HTTPRequestHead? {
            if case .head(let head)? = parse(bytes(text)).first { return head }
            return nil
        }
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.wantsKeepAlive == true)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?.wantsKeepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, Close\r\n\r\n")?.wantsKeepAlive == false)
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.wantsKeepAlive == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.wantsKeepAlive == true)
    }

    @Test func expectContinue() {
        let events = parse(bytes("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"))
        guard case .head(let head)? = events.first else { Issue.record("no head"); return }
        #expect(head.expectsContinue)
        #expect(events.count == 1)  // the body has not come yet
        #expect(rejection(parse(bytes("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\nContent-Length: 2\r\n\r\nab")))?.status == .expectationFailed)
    }

    @Test func emptyLinesBeforeTheRequestLineAreSkipped() {
        let events = parse(bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(rejection(events) == nil)
        #expect(events.count == 2)
    }
}
