/// Finds stop strings in streamed text across token boundaries, as a value-type state machine.
///
/// Text that could still be the beginning of a stop string is held back, so nothing is ever streamed
/// and then retracted: `feed` returns only text that is certainly before any stop string. Matching is
/// on Unicode scalars, so a stop string split across tokens (or inside a multi-byte character's
/// completion) is still found.
public struct StopStringMatcher: Sendable {
    private let stops: [[Unicode.Scalar]]
    private var pending: [Unicode.Scalar] = []
    public private(set) var isStopped = false
    /// The stop string that ended the text, once one did.
    public private(set) var matchedStop: String?

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.unicodeScalars) }
    }

    /// Adds newly decoded text; returns the text that may be emitted now.
    public mutating func feed(_ text: String) -> String {
        guard !isStopped else { return "" }
        pending.append(contentsOf: text.unicodeScalars)
        guard !stops.isEmpty else { return flush() }

        // Earliest complete stop string, if any.
        var earliest: (start: Int, stop: Int)?
        for (index, stop) in stops.enumerated() where stop.count <= pending.count {
            if let start = Self.firstIndex(of: stop, in: pending), start < (earliest?.start ?? Int.max) {
                earliest = (start, index)
            }
        }
        if let (start, index) = earliest {
            isStopped = true
            matchedStop = String(String.UnicodeScalarView(stops[index]))
            let out = String(String.UnicodeScalarView(pending[0..<start]))
            pending.removeAll()
            return out
        }

        // Hold back the longest suffix that is a prefix of some stop string.
        var hold = 0
        for stop in stops {
            let limit = min(stop.count - 1, pending.count)
            if limit <= hold { continue }
            for k in stride(from: limit, to: hold, by: -1) where pending[(pending.count - k)...].elementsEqual(stop[0..<k]) {
                hold = k
                break
            }
        }
        let emitCount = pending.count - hold
        let out = String(String.UnicodeScalarView(pending[0..<emitCount]))
        pending.removeFirst(emitCount)
        return out
    }

    /// Releases held-back text at the end of generation (it never became a stop string).
    public mutating func flush() -> String {
        let out = String(String.UnicodeScalarView(pending))
        pending.removeAll()
        return out
    }

    private static func firstIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
