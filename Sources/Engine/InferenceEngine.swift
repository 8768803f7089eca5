import Foundation
import Hamburger
import KVCache
import Llama

/// The serving engine: one dedicated thread that owns the model and the paged KV cache and runs the
/// continuous-batching loop (schedule -> one `ForwardBatch` -> one forward -> sample -> events).
///
/// Callable from any thread. `submit` validates a request on the caller's thread (throwing
/// `EngineError` with the numbers) and queues it; its events arrive on the engine thread through the
/// callback (which must return quickly and never block) or through a `TokenStream`. `cancel` ends a
/// request and frees its blocks before the next forward pass. The thread sleeps while nothing is
/// queued or running. Token ids only: text belongs to the API layer.
public final class InferenceEngine: Sendable {
    /// The scheduler's limits as resolved from the configuration and the model.
    public let schedulerConfiguration: SchedulerConfiguration
    /// The KV cache geometry in use.
    public let kvLayout: KVCacheLayout
    public let vocabSize: Int
    public let endOfSequenceTokenIds: [Int32]
    /// K of the HAMburger adapter, nil when the engine has none (HAMburger requests are refused).
    public let hamburgerMaxSteps: Int?
    /// The adapter's default confidence, nil without an adapter.
    public let hamburgerDefaultConfidence: Double?
    /// The adapter's default micro-token probability floor (0: off), nil without an adapter.
    public let hamburgerDefaultMinProbability: Double?
    private let mailbox: EngineMailbox
    private let maxWaitingRequests: Int?

    /// Takes the model over (nothing else may use it afterwards), allocates the KV pages and starts the
    /// engine thread. With `adapter` (a HAMburger adapter for this base model, bound to it here)
    /// requests may ask for `.hamburger` decoding; without it they are refused.
    public init(model: sending some ForwardModel, configuration: EngineConfiguration = EngineConfiguration(),
                adapter: HamburgerAdapter? = nil) throws(EngineError) {
        let hamburger: HamburgerRuntime?
        do { hamburger = try adapter.map { adapter throws(HamburgerError) in try HamburgerRuntime(base: model, adapter: adapter) } } catch {
            throw .invalidConfiguration(error.description)
        }
        let layout: KVCacheLayout
        do {
            layout = try configuration.kvCapacity.layout(
                layerCount: model.kvLayerCount, entryWidth: model.kvEntryWidth, headDim: model.kvHeadDim,
                blockSize: configuration.kvBlockSize,
                elementType: configuration.kvElementType)
        } catch {
            throw .invalidConfiguration(error.description)
        }
        let scheduling = SchedulerConfiguration(
            maxSequenceCount: configuration.maxSequenceCount, maxBatchedTokens: configuration.maxBatchedTokens,
            maxModelLength: configuration.maxModelLength ?? model.contextLength, blockSize: layout.blockSize,
            blockCount: layout.blockCount, enablePrefixCaching: configuration.enablePrefixCaching)
        try scheduling.validate()
        guard model.vocabSize > 0 else { throw .invalidConfiguration("the model reports an empty vocabulary") }

        schedulerConfiguration = scheduling
        kvLayout = layout
        vocabSize = model.vocabSize
        endOfSequenceTokenIds = model.endOfSequenceTokenIds
        hamburgerMaxSteps = hamburger?.maxSteps
        hamburgerDefaultConfidence = adapter?.defaultConfidence
        hamburgerDefaultMinProbability = adapter?.defaultMinProbability
        let stats = EngineStats(kvBlocksTotal: layout.blockCount, kvBlockSize: layout.blockSize)
        mailbox = EngineMailbox(stats: stats)
        maxWaitingRequests = configuration.maxWaitingRequests
        let loop = EngineLoop(
            model: model, pages: KVPages(layout: layout),
            scheduler: Scheduler(configuration: scheduling, endOfSequenceTokenIds: model.endOfSequenceTokenIds),
            mailbox: mailbox, configuration: configuration, stats: stats, hamburger: hamburger)
        let thread = Thread { loop.run() }
        thread.name = configuration.threadName
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit {
        mailbox.requestStop()
    }

    /// Checks a request against the engine's limits without submitting it: the one place every rule
    /// on a `GenerationRequest` is enforced (the scheduler and the loop trust what passed here).
    public func validate(_ request: GenerationRequest) throws(EngineError) {
        if case let .hamburger(confidence, minProbability) = request.decoding {
            guard hamburgerMaxSteps != nil else {
                throw .decodingModeUnavailable(requestId: request.id, mode: request.decoding.name)
            }
            guard confidence.isFinite, confidence > 0, confidence <= 1 else {
                throw .invalidSamplingParameter(name: "hamburger_confidence", value: "\(confidence)", allowed: "in (0, 1]")
            }
            guard minProbability.isFinite, minProbability >= 0, minProbability < 1 else {
                throw .invalidSamplingParameter(name: "hamburger_min_probability", value: "\(minProbability)", allowed: "in [0, 1)")
            }
        }
        try Scheduler.validate(request, configuration: schedulerConfiguration)
        for token in request.promptTokenIds + request.stopTokenIds + request.sampling.logitBias.keys.sorted()
        where token < 0 || Int(token) >= vocabSize {
            throw .tokenOutOfRange(requestId: request.id, tokenId: token, vocabSize: vocabSize)
        }
        try request.sampling.validate()
        if let logprobs = request.logprobs ?? request.promptLogprobs, logprobs < 0 || logprobs > GenerationRequest.maxLogprobs {
            throw .invalidLogprobs(requestId: request.id, logprobs: logprobs, maximum: GenerationRequest.maxLogprobs)
        }
        if let logprobs = request.promptLogprobs, logprobs < 0 || logprobs > GenerationRequest.maxLogprobs {
            throw .invalidLogprobs(requestId: request.id, logprobs: logprobs, maximum: GenerationRequest.maxLogprobs)
        }
    }

    /// Queues a request; `onEvent` then receives its `.tokens` events and one terminal event
    /// (`.finished`, or `.failed`), on the engine thread.
    public func submit(_ request: GenerationRequest, onEvent: @escaping @Sendable (GenerationEvent) -> Void) throws(EngineError) {
        try submit(request, onEvent: onEvent, onGroup: nil)
    }

    /// `submit` that also hears each group's size (tokens taken in per iteration, a stop token included).
    func submit(_ request: GenerationRequest, onEvent: @escaping @Sendable (GenerationEvent) -> Void,
                onGroup: (@Sendable (Int) -> Void)?) throws(EngineError) {
        try validate(request)
        var system = SystemRandomNumberGenerator()
        try mailbox.post([Submission(request: request, onEvent: onEvent, onGroup: onGroup, fallbackSeed: system.next())],
                         maxWaiting: maxWaitingRequests)
    }

    /// Queues several requests at once, all or none (one HTTP request's choices): each is validated,
    /// then they take places in the waiting queue together or `.overloaded` is thrown.
    /// `onEvent` hears each one's events with its index in `requests`.
    public func submit(_ requests: [GenerationRequest],
                       onEvent: @escaping @Sendable (_ index: Int, GenerationEvent) -> Void) throws(EngineError) {
        for request in requests { try validate(request) }
        var system = SystemRandomNumberGenerator()
        let batch = requests.enumerated().map { index, request in
            Submission(request: request, onEvent: { onEvent(index, $0) }, fallbackSeed: system.next())
        }
        try mailbox.post(batch, maxWaiting: maxWaitingRequests)
    }

    /// Queues a request and returns its events as an async sequence; dropping or cancelling the
    /// stream's consumer cancels the request.
    public func submit(_ request: GenerationRequest) throws(EngineError) -> TokenStream {
        let (stream, continuation) = TokenStream.makeStream(of: GenerationEvent.self)
        try submit(request) { event in
            continuation.yield(event)
            if event.isTerminal { continuation.finish() }
        }
        let id = request.id
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.cancel(id) }
        }
        return stream
    }

    /// Ends the request and frees its KV blocks before the next forward pass; its last event is
    /// `.finished(reason, ...)`: `.abort` for a client that went away, `.stop` when the caller found a
    /// stop string in the text. Tokens generated in the meantime may still arrive before it.
    /// Unknown or finished ids are ignored.
    public func cancel(_ id: String, reason: FinishReason = .abort) {
        mailbox.postCancellation(id, reason: reason)
    }

    /// The latest snapshot (updated after every iteration).
    public func stats() -> EngineStats {
        mailbox.readStats()
    }

    /// Aborts every request, stops the engine thread and waits for it. Later submissions throw
    /// `.engineStopped`. Must not be called from an event callback (it runs on the engine thread).
    public func shutdown() {
        mailbox.requestStop()
        mailbox.waitUntilStopped()
    }
}
