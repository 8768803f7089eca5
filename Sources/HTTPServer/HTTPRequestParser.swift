import Foundation

/// A byte-fed, incremental HTTP/1.1 request parser: a value-type state machine.
///
/// Feed it whatever bytes arrive, split anywhere; it returns the events those bytes complete, in
/// order: `.head` once per request, then zero or more `.body` slices, then `.end` (with any chunked
/// trailers). Several requests in one buffer (pipelining) yield several head/body/end runs. The first
/// violation yields `.rejected` with the status to answer (400, 405, 413, 417, 431, 501, 505); after
/// that the parser ignores further input, since the byte stream can no longer be framed.
///
/// It never buffers more than one line of head bytes (bounded by the limits) and never copies body
/// bytes more than once.
public struct HTTPRequestParser: Sendable {
    /// What a fed buffer completed.
    public enum Event: Sendable, Equatable {
        case head(HTTPRequestHead)
        case body(Data)
        case end(trailers: HTTPHeaders)
        case rejected(HTTPRequestRejection)
    }

    enum State: Sendable, Equatable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        case failed
    }

    /// The longest chunk-size line accepted (size plus extensions), in bytes.
    static let maxChunkLineBytes = 4096
    /// Empty lines tolerated before a request line (RFC 9112 §2.2 robustness), per request.
    static let maxLeadingEmptyLines = 8

    public let limits: HTTPParserLimits
    var state: State = .requestLine
    /// The bytes of the current, not yet terminated line.
    var line: [UInt8] = []
    var requestLine: (method: HTTPMethod, target: String, version: HTTPVersion)?
    var headers = HTTPHeaders()
    /// Bytes of the header (or trailer) section so far, line endings excluded.
    var sectionBytes = 0
    var leadingEmptyLines = 0
    /// Body bytes announced by chunk sizes so far in the current request.
    var chunkedBodyBytes = 0

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Whether the parser is between requests with no partial request buffered.
    public var isAtMessageBoundary: Bool { state == .requestLine && line.isEmpty }

    /// Whether the parser has seen some of a request's head but not all of it.
    public var isReadingHead: Bool {
        state == .headerLines || (state == .requestLine && !line.isEmpty)
    }

    /// Whether the parser refused the input and ignores everything after.
    public var hasFailed: Bool { state == .failed }

    /// Feeds bytes; returns the events they complete.
    public mutating func feed(_ bytes: [UInt8]) -> [Event] {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Feeds bytes; returns the events they complete.
    public mutating func feed(_ bytes: Data) -> [Event] {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Feeds bytes; returns the events they complete.
    public mutating func feed(_ buffer: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        var index = 0
        let count = buffer.count
        while index < count {
            switch state {
            case .failed:
                return events
            case .fixedBody(let remaining):
                let take = min(remaining, count - index)
                events.append(.body(Self.copy(buffer, from: index, count: take)))
                index += take
                if remaining == take {
                    events.append(.end(trailers: HTTPHeaders()))
                    resetForNextRequest()
                } else {
                    state = .fixedBody(remaining: remaining - take)
                }
            case .chunkData(let remaining):
                let take = min(remaining, count - index)
                events.append(.body(Self.copy(buffer, from: index, count: take)))
                index += take
                state = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .requestLine, .headerLines, .chunkSizeLine, .chunkDataEnd, .trailerLines:
                guard let (lineEnd, found) = scanLine(buffer, from: index) else {
                    return events + [fail(lineTooLongRejection())]
                }
                line.append(contentsOf: buffer[index..<lineEnd])
                index = found ? lineEnd + 1 : lineEnd
                if found, line.last == 0x0D { line.removeLast() }
                let contentBytes = line.last == 0x0D ? line.count - 1 : line.count
                if contentBytes > lineBudget {
                    events.append(fail(lineTooLongRejection()))
                } else if found, let event = completeLine() {
                    events.append(event)
                    if case .head(let head) = event, head.bodyFraming == .none {
                        events.append(.end(trailers: HTTPHeaders()))
                    }
                }
            }
        }
        return events
    }

    /// Finds the next LF at or after `start`; returns its index (`found`) or the buffer's end, or nil
    /// when the line grows past the current state's limit before an LF comes.
    private func scanLine(_ buffer: UnsafeRawBufferPointer, from start: Int) -> (Int, Bool)? {
        let budget = lineBudget + 1  // a CR may precede the LF
        var index = start
        let end = buffer.count
        while index < end {
            if buffer[index] == 0x0A { return (index, true) }
            index += 1
            if line.count + (index - start) > budget { return nil }
        }
        return (end, false)
    }

    /// How many content bytes the current line may hold in the current state.
    private var lineBudget: Int {
        switch state {
        case .requestLine: return limits.maxRequestLineBytes
        case .headerLines, .trailerLines: return max(0, limits.maxHeaderBytes - sectionBytes)
        case .chunkSizeLine: return Self.maxChunkLineBytes
        default: return 0
        }
    }

    private func lineTooLongRejection() -> HTTPRequestRejection {
        switch state {
        case .requestLine:
            return HTTPRequestRejection(.requestHeaderFieldsTooLarge,
                                        "The request line is longer than \(limits.maxRequestLineBytes) bytes.")
        case .headerLines, .trailerLines:
            return HTTPRequestRejection(.requestHeaderFieldsTooLarge,
                                        "The header section is larger than \(limits.maxHeaderBytes) bytes.")
        case .chunkSizeLine:
            return HTTPRequestRejection(.badRequest, "A chunk-size line is longer than \(Self.maxChunkLineBytes) bytes.")
        default:
            return HTTPRequestRejection(.badRequest, "Chunk data is not followed by CRLF.")
        }
    }

    /// Handles one complete line (its line ending consumed, its content held in `line`).
    private mutating func completeLine() -> Event? {
        let content = line
        line.removeAll(keepingCapacity: true)
        switch state {
        case .requestLine:
            return acceptRequestLine(content)
        case .headerLines:
            return acceptHeaderLine(content)
        case .chunkSizeLine:
            return acceptChunkSizeLine(content)
        case .chunkDataEnd:
            guard content.isEmpty else { return fail(HTTPRequestRejection(.badRequest, "Chunk data is not followed by CRLF.")) }
            state = .chunkSizeLine
            return nil
        case .trailerLines:
            return acceptTrailerLine(content)
        default:
            return nil
        }
    }

    private mutating func acceptChunkSizeLine(_ content: [UInt8]) -> Event? {
        guard let size = Self.parseChunkSize(content) else {
            return fail(HTTPRequestRejection(.badRequest, "A chunk size is not a valid hexadecimal number."))
        }
        if size == 0 {
            state = .trailerLines
            headers = HTTPHeaders()
            sectionBytes = 0
            return nil
        }
        guard size <= limits.maxBodyBytes - chunkedBodyBytes else {
            return fail(HTTPRequestRejection(.payloadTooLarge, "The request body is larger than \(limits.maxBodyBytes) bytes."))
        }
        chunkedBodyBytes += size
        state = .chunkData(remaining: size)
        return nil
    }

    private mutating func acceptTrailerLine(_ content: [UInt8]) -> Event? {
        if content.isEmpty {
            let trailers = headers
            resetForNextRequest()
            return .end(trailers: trailers)
        }
        return addField(content)
    }

    /// Copies `count` bytes of `buffer` from `start` in one go.
    static func copy(_ buffer: UnsafeRawBufferPointer, from start: Int, count: Int) -> Data {
        guard let base = buffer.baseAddress, count > 0 else { return Data() }
        return Data(bytes: base + start, count: count)
    }

    /// Records the rejection and stops parsing.
    mutating func fail(_ rejection: HTTPRequestRejection) -> Event {
        state = .failed
        line = []
        return .rejected(rejection)
    }

    mutating func resetForNextRequest() {
        state = .requestLine
        requestLine = nil
        headers = HTTPHeaders()
        sectionBytes = 0
        leadingEmptyLines = 0
        chunkedBodyBytes = 0
    }
}
