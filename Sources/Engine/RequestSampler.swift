import Kernels
import StructuredOutput

/// Scratch buffers reused across sampling calls on the engine thread (two `[vocab]` float arrays).
public struct SamplingScratch {
    var logits: [Float] = []
    var probabilities: [Float] = []

    public init() {}

    mutating func prepare(vocabSize: Int) {
        if logits.count != vocabSize {
            logits = Array(repeating: 0, count: vocabSize)
            probabilities = Array(repeating: 0, count: vocabSize)
        }
    }
}

/// One token drawn for a request, with its logprob when asked.
public struct SampledToken: Sendable, Equatable {
    public var tokenId: Int32
    public var logprob: TokenLogprob?
}

/// A request's sampling state: its parameters, its own seeded generator, and the token counts the
/// penalties need. Lives as long as the request (preemptions included), so the same seed and the same
/// logits always give the same tokens, whatever else shares the batch.
public struct RequestSampler: Sendable {
    public let parameters: SamplingParameters
    /// nil = no logprobs; otherwise the number of alternatives to report.
    public let logprobCount: Int?
    public private(set) var generator: Xoshiro256StarStar
    /// How often each generated token occurred.
    public private(set) var outputCounts: [Int32: Int] = [:]
    /// Prompt and output tokens, for the repetition penalty (kept only when that penalty is on).
    public private(set) var seenTokens: Set<Int32> = []
    /// The request's output constraint (`response_format`), if any, and where its automaton is.
    public let constraint: TokenConstraint?
    public internal(set) var grammarState: GrammarState?

    /// `seed` is used when the parameters carry none.
    public init(parameters: SamplingParameters, promptTokenIds: [Int32], logprobCount: Int?, seed: UInt64,
                constraint: TokenConstraint? = nil) {
        self.constraint = constraint
        grammarState = constraint?.initialState
        self.parameters = parameters
        self.logprobCount = logprobCount
        generator = Xoshiro256StarStar(seed: parameters.seed ?? seed)
        if parameters.repetitionPenalty != 1 { seenTokens = Set(promptTokenIds) }
    }

    /// Chooses the next token from one row of `[vocab]` logits and records it for the penalties.
    public mutating func sample(logits: UnsafeBufferPointer<Float>, scratch: inout SamplingScratch) -> SampledToken {
        let token: Int
        // The allowed tokens of the constraint's state; an empty mask (never expected) constrains nothing.
        let mask = constraint.flatMap { c in grammarState.map { c.mask(for: $0) } }.flatMap { $0.allowedCount > 0 ? $0 : nil }
        if parameters.isGreedy && !parameters.adjustsLogits && mask == nil {
            token = argmax(logits)
        } else {
            scratch.prepare(vocabSize: logits.count)
            token = scratch.logits.withUnsafeMutableBufferPointer { adjusted in
                _ = adjusted.initialize(from: logits)
                SamplingMath.applyPenalties(
                    adjusted, outputCounts: outputCounts, seenTokens: seenTokens,
                    presence: parameters.presencePenalty, frequency: parameters.frequencyPenalty,
                    repetition: parameters.repetitionPenalty)
                for (token, bias) in parameters.logitBias where Int(token) < adjusted.count && token >= 0 { adjusted[Int(token)] += bias }
                mask?.apply(to: adjusted)
                if parameters.isGreedy { return argmax(UnsafeBufferPointer(adjusted)) }
                return scratch.probabilities.withUnsafeMutableBufferPointer { probabilities in
                    SamplingMath.softmax(probabilities, logits: UnsafeBufferPointer(adjusted), temperature: parameters.temperature)
                    let view = UnsafeBufferPointer(probabilities)
                    let kept = SamplingMath.keptTokens(
                        probabilities: view, topK: parameters.topK, topP: parameters.topP, minP: parameters.minP)
                    return SamplingMath.draw(probabilities: view, kept: kept, uniform: generator.nextUniform())
                }
            }
        }
        let tokenId = Int32(token)
        outputCounts[tokenId, default: 0] += 1
        if parameters.repetitionPenalty != 1 { seenTokens.insert(tokenId) }
        if let constraint, let state = grammarState { grammarState = constraint.advanced(state, by: tokenId) ?? state }
        return SampledToken(tokenId: tokenId, logprob: logprobCount.map { Self.logprob(of: token, logits: logits, alternatives: $0) })
    }

    /// Whether the constraint leaves at most one token after what was sampled so far (a forced
    /// continuation, or only the end): HAMburger ends its group there.
    public var constraintIsForced: Bool {
        guard let constraint, let grammarState else { return false }
        return constraint.mask(for: grammarState).allowedCount <= 1
    }

    /// The chosen token's log-softmax under the raw logits, and the `alternatives` most likely tokens.
    public static func logprob(of token: Int, logits: UnsafeBufferPointer<Float>, alternatives: Int) -> TokenLogprob {
        let normalizer = SamplingMath.logSumExp(logits)
        let top = SamplingMath.topIndices(logits, count: alternatives).map {
            TokenLogprob.Alternative(tokenId: Int32($0), logprob: logits[$0] - normalizer)
        }
        return TokenLogprob(tokenId: Int32(token), logprob: logits[token] - normalizer, topAlternatives: top)
    }
}
