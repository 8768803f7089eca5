import Foundation

/// Request-line, header-field and framing validation (RFC 9112 §3, §5, §6).
extension HTTPRequestParser {
    mutating func acceptRequestLine(_ content: [UInt8]) -> Event? {
        if content.isEmpty {
            leadingEmptyLines += 1
            guard leadingEmptyLines <= Self.maxLeadingEmptyLines else {
                return fail(HTTPRequestRejection(.badRequest, "Too many empty lines before the request line."))
            }
            return nil
        }
        let parts = content.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            return fail(HTTPRequestRejection(.badRequest, "The request line must be 'METHOD target HTTP/1.1'."))
        }
        let methodBytes = parts[0], targetBytes = parts[1], versionBytes = parts[2]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(Self.isTokenByte) else {
            return fail(HTTPRequestRejection(.badRequest, "The request method is not a valid token."))
        }
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return fail(HTTPRequestRejection(.badRequest, "The request target is empty or contains invalid characters."))
        }
        let version: HTTPVersion
        switch Self.parseVersion(versionBytes) {
        case .malformed:
            return fail(HTTPRequestRejection(.badRequest, "The protocol version is malformed; expected HTTP/1.1 or HTTP/1.0."))
        case .unsupported(let text):
            return fail(HTTPRequestRejection(.httpVersionNotSupported, "\(text) is not supported; use HTTP/1.1 or HTTP/1.0."))
        case .supported(let parsed):
            version = parsed
        }
        let method = HTTPMethod(String(decoding: methodBytes, as: UTF8.self))
        guard limits.allowedMethods.contains(method) else {
            return fail(HTTPRequestRejection(.methodNotAllowed,
                                             "Method \(method) is not allowed; use one of \(limits.allowHeaderValue)."))
        }
        let target = String(decoding: targetBytes, as: UTF8.self)
        guard target.hasPrefix("/") || target == "*" || target.lowercased().hasPrefix("http://")
            || target.lowercased().hasPrefix("https://") else {
            return fail(HTTPRequestRejection(.badRequest, "The request target must be a path starting with '/'."))
        }
        requestLine = (method, target, version)
        state = .headerLines
        headers = HTTPHeaders()
        sectionBytes = 0
        return nil
    }

    mutating func acceptHeaderLine(_ content: [UInt8]) -> Event? {
        if content.isEmpty { return finishHead() }
        return addField(content)
    }

    /// Validates one `name: value` line and adds it to `headers` (used for headers and trailers).
    mutating func addField(_ content: [UInt8]) -> Event? {
        if let first = content.first, first == 0x20 || first == 0x09 {
            return fail(HTTPRequestRejection(.badRequest, "Obsolete header line folding is not accepted."))
        }
        guard let colon = content.firstIndex(of: 0x3A), colon > 0,
              content[..<colon].allSatisfy(Self.isTokenByte) else {
            return fail(HTTPRequestRejection(.badRequest, "A header line is not 'Name: value' with a valid name."))
        }
        var valueStart = colon + 1, valueEnd = content.endIndex
        while valueStart < valueEnd, content[valueStart] == 0x20 || content[valueStart] == 0x09 { valueStart += 1 }
        while valueEnd > valueStart, content[valueEnd - 1] == 0x20 || content[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        let value = content[valueStart..<valueEnd]
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            return fail(HTTPRequestRejection(.badRequest, "A header value contains control characters."))
        }
        guard headers.count < limits.maxHeaderCount else {
            return fail(HTTPRequestRejection(.requestHeaderFieldsTooLarge,
                                             "The request has more than \(limits.maxHeaderCount) header fields."))
        }
        sectionBytes += content.count
        headers.add(name: String(decoding: content[..<colon], as: UTF8.self),
                    value: String(decoding: value, as: UTF8.self))
        return nil
    }

    /// The header section ended: checks Host and the framing headers, emits the head, and moves to
    /// the body (or straight to `.end` when there is none).
    mutating func finishHead() -> Event? {
        guard let (method, target, version) = requestLine else { return nil }
        let hosts = headers.values(for: "Host")
        if version == .http1_1 && hosts.count != 1 || hosts.count > 1 {
            return fail(HTTPRequestRejection(.badRequest, "An HTTP/1.1 request must carry exactly one Host header."))
        }
        let framing: HTTPRequestHead.BodyFraming
        switch bodyFraming(version: version) {
        case .failure(let rejection): return fail(rejection)
        case .success(let parsed): framing = parsed
        }
        let expectations = headers.tokens(for: "Expect")
        if !expectations.isEmpty && expectations != ["100-continue"] {
            return fail(HTTPRequestRejection(.expectationFailed, "Only 'Expect: 100-continue' is supported."))
        }
        let head = HTTPRequestHead(method: method, target: target, version: version, headers: headers,
                                   bodyFraming: framing)
        switch framing {
        case .none:
            resetForNextRequest()  // `feed` emits `.end` right after this head
        case .length(let length):
            state = .fixedBody(remaining: length)
        case .chunked:
            state = .chunkSizeLine
            chunkedBodyBytes = 0
        }
        return .head(head)
    }

    enum FramingDecision { case success(HTTPRequestHead.BodyFraming), failure(HTTPRequestRejection) }

    private func bodyFraming(version: HTTPVersion) -> FramingDecision {
        let transferCodings = headers.tokens(for: "Transfer-Encoding")
        let lengthValues = headers.values(for: "Content-Length")
        if headers.contains("Transfer-Encoding") {
            guard lengthValues.isEmpty else {
                return .failure(HTTPRequestRejection(.badRequest, "A request must not carry both Content-Length and Transfer-Encoding."))
            }
            guard version == .http1_1 else {
                return .failure(HTTPRequestRejection(.badRequest, "Transfer-Encoding is not allowed in an HTTP/1.0 request."))
            }
            guard transferCodings == ["chunked"] else {
                return .failure(HTTPRequestRejection(.notImplemented, "Only 'Transfer-Encoding: chunked' is supported."))
            }
            return .success(.chunked)
        }
        guard !lengthValues.isEmpty else { return .success(.none) }
        var length: Int?
        for element in lengthValues.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let text = HTTPHeaders.trimmed(element)
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return .failure(HTTPRequestRejection(.badRequest, "Content-Length is not a non-negative decimal number."))
            }
            let digits = text.drop { $0 == "0" }
            guard digits.count <= 18, let parsed = Int(digits.isEmpty ? "0" : String(digits)) else {
                return .failure(HTTPRequestRejection(.payloadTooLarge, "The request body is larger than \(limits.maxBodyBytes) bytes."))
            }
            if let earlier = length, earlier != parsed {
                return .failure(HTTPRequestRejection(.badRequest, "Conflicting Content-Length values."))
            }
            length = parsed
        }
        guard let length else { return .success(.none) }
        guard length <= limits.maxBodyBytes else {
            return .failure(HTTPRequestRejection(.payloadTooLarge, "The request body is larger than \(limits.maxBodyBytes) bytes."))
        }
        return .success(length == 0 ? .none : .length(length))
    }

    enum ParsedVersion { case supported(HTTPVersion), unsupported(String), malformed }

    /// `HTTP/<digit>.<digit>`: 1.0 and 1.x (x >= 1, served as 1.1) are supported; other digits are not.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) -> ParsedVersion {
        let text = Array(bytes)
        guard text.count == 8, Array(text[0..<5]) == Array("HTTP/".utf8), text[6] == 0x2E,
              (0x30...0x39).contains(text[5]), (0x30...0x39).contains(text[7]) else { return .malformed }
        let major = Int(text[5] - 0x30), minor = Int(text[7] - 0x30)
        guard major == 1 else { return .unsupported("HTTP/\(major).\(minor)") }
        return .supported(minor == 0 ? .http1_0 : .http1_1)
    }

    /// The chunk size of a chunk-size line (`1a;ext=v`), or nil when malformed or over 2^60.
    static func parseChunkSize(_ content: [UInt8]) -> Int? {
        var size = 0, digits = 0, index = 0
        while index < content.count, let value = hexValue(content[index]) {
            guard digits < 15 else { return nil }
            size = size << 4 | value
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        while index < content.count, content[index] == 0x20 || content[index] == 0x09 { index += 1 }
        guard index == content.count || content[index] == 0x3B else { return nil }
        let extensions = content[index...]
        guard extensions.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else { return nil }
        return size
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }

    /// RFC 9110 `tchar`: the bytes allowed in methods and header names.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
