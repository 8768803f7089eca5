/// Everything the engine loop keeps about one running request beside the scheduler's sequence: its
/// sampler, where its events and group sizes go, and when it was taken in. Created when the request is
/// accepted (`EngineLoop.accept`) and dropped in one place when it ends (`EngineLoop.finish`), so no
/// per-request fact can outlive the request or be forgotten when it goes.
struct RequestRecord {
    var sampler: RequestSampler
    /// Hears the request's `.tokens` events and its one `.finished`.
    let onEvent: @Sendable (GenerationEvent) -> Void
    /// Hears each group's size (tokens accepted per iteration, a stop token included).
    let onGroup: (@Sendable (Int) -> Void)?
    /// When the engine thread took the request in (engine clock, nanoseconds).
    let acceptedAt: UInt64
    /// When it was first admitted to run; nil while it has only waited (queue time is measured once,
    /// not again after a preemption).
    var firstAdmittedAt: UInt64?
    /// With prompt logprobs: prompt positions already reported (a recompute after a preemption does
    /// not report them again).
    var promptLogprobsReported = 0
    /// Whether the stop token that ends the request is emitted too (requests with prompt logprobs).
    let reportsStopToken: Bool

    init(submission: Submission, acceptedAt: UInt64) {
        let request = submission.request
        sampler = RequestSampler(
            parameters: request.sampling, promptTokenIds: request.promptTokenIds, logprobCount: request.logprobs,
            seed: submission.fallbackSeed, constraint: request.constraint)
        reportsStopToken = request.promptLogprobs != nil
        onEvent = submission.onEvent
        onGroup = submission.onGroup
        self.acceptedAt = acceptedAt
    }
}
