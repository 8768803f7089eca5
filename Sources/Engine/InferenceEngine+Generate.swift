import Foundation

/// Everything one request produced, for offline batch generation (`hamburger generate`).
public struct GenerationResult: Sendable, Equatable {
    public var id: String
    /// Emitted tokens (a final stop token is not among them).
    public var tokenIds: [Int32]
    /// One per emitted token when the request asked for logprobs.
    public var logprobs: [TokenLogprob]?
    /// With `promptLogprobs`: one per prompt token after the first.
    public var promptLogprobs: [TokenLogprob]?
    /// `.abort` for a request that failed (see `failure`).
    public var finishReason: FinishReason
    /// Why the engine ended the request early (nil: it finished).
    public var failure: EngineError?
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens whose KV entries came from the prefix cache.
    public var cachedPromptTokens = 0
    /// Tokens taken in per engine iteration, in order (a final stop token included): all 1 in
    /// autoregressive mode, the macro steps' group sizes with HAMburger. Sums to `completionTokens`.
    public var groupSizes: [Int] = []

    /// Base forward passes that produced tokens for this request (macro steps with HAMburger).
    public var macroSteps: Int { groupSizes.count }
}

/// Gathers the events of several requests and wakes the waiting caller when all have finished.
private final class ResultCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [String: GenerationResult] = [:]
    private var finishedCount = 0

    init(ids: [String]) {
        for id in ids {
            results[id] = GenerationResult(id: id, tokenIds: [], logprobs: nil, finishReason: .abort, promptTokens: 0, completionTokens: 0)
        }
    }

    func receiveGroup(_ size: Int, for id: String) {
        condition.lock()
        defer { condition.unlock() }
        results[id]?.groupSizes.append(size)
    }

    func receive(_ event: GenerationEvent, for id: String) {
        condition.lock()
        defer { condition.unlock() }
        guard var result = results[id] else { return }
        switch event {
        case let .tokens(tokens, logprobs):
            result.tokenIds += tokens
            if let logprobs { result.logprobs = (result.logprobs ?? []) + logprobs }
        case let .promptLogprobs(logprobs):
            result.promptLogprobs = (result.promptLogprobs ?? []) + logprobs
        case let .finished(reason, promptTokens, completionTokens, cachedPromptTokens):
            result.finishReason = reason
            result.promptTokens = promptTokens
            result.completionTokens = completionTokens
            result.cachedPromptTokens = cachedPromptTokens
            finishedCount += 1
            condition.broadcast()
        case let .failed(error, promptTokens, completionTokens):
            result.failure = error
            result.finishReason = .abort
            result.promptTokens = promptTokens
            result.completionTokens = completionTokens
            finishedCount += 1
            condition.broadcast()
        }
        results[id] = result
    }

    func waitForAll(_ ids: [String]) -> [GenerationResult] {
        condition.lock()
        defer { condition.unlock() }
        while finishedCount < ids.count { condition.wait() }
        return ids.compactMap { results[$0] }
    }
}

extension InferenceEngine {
    /// Runs `requests` through the engine all at once (continuous batching decides the order) and
    /// blocks until every one has finished; results come back in request order. Every request is
    /// validated before any is submitted. Blocks the calling thread: never call it on the engine thread.
    public func generate(_ requests: [GenerationRequest]) throws(EngineError) -> [GenerationResult] {
        var seen: Set<String> = []
        for request in requests {
            try validate(request)
            guard seen.insert(request.id).inserted else { throw .duplicateRequestId(request.id) }
        }
        let ids = requests.map(\.id)
        let collector = ResultCollector(ids: ids)
        var submitted: [String] = []
        for request in requests {
            let id = request.id
            do {
                try submit(request, onEvent: { collector.receive($0, for: id) }, onGroup: { collector.receiveGroup($0, for: id) })
            } catch {
                for earlier in submitted { cancel(earlier) }
                throw error
            }
            submitted.append(id)
        }
        return collector.waitForAll(ids)
    }
}
