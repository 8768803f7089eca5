import Engine
import Tokenization

/// Turns one choice's token ids into text as they arrive: incremental detokenization (never a broken
/// UTF-8 sequence), stop strings matched across token boundaries with held-back text, and the count
/// and logprobs of the tokens that made it into the answer.
struct ChoiceDecoder: Sendable {
    private var detokenizer: StreamingDetokenizer
    private var matcher: StopStringMatcher
    /// All text emitted so far.
    private(set) var text = ""
    /// Tokens consumed into the answer (up to and including the one completing a stop string).
    private(set) var tokenCount = 0
    private(set) var logprobs: [TokenLogprob] = []

    init(tokenizer: Tokenizer, stops: [String]) {
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
        matcher = StopStringMatcher(stops: stops)
    }

    var hitStopString: Bool { matcher.isStopped }

    /// Consumes tokens; returns the text that may be emitted now. After a stop string, the remaining
    /// tokens are dropped and never emitted.
    mutating func consume(_ tokens: [Int32], logprobs tokenLogprobs: [TokenLogprob]?) -> String {
        var out = ""
        for (i, token) in tokens.enumerated() where !matcher.isStopped {
            tokenCount += 1
            if let tokenLogprobs, i < tokenLogprobs.count { logprobs.append(tokenLogprobs[i]) }
            let piece = (try? detokenizer.append(Int(token))) ?? ""
            out += matcher.feed(piece)
        }
        text += out
        return out
    }

    /// Ends the choice: flushes bytes and held-back text (which never became a stop string).
    mutating func finish() -> String {
        guard !matcher.isStopped else { return "" }
        var out = matcher.feed(detokenizer.finish())
        out += matcher.flush()
        text += out
        return out
    }
}
