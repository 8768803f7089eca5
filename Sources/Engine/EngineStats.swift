/// Counts of observations per bucket, Prometheus style: `counts[i]` observations were
/// `<= upperBounds[i]` and above the previous bound; the last count is for `+Inf`.
public struct HistogramSnapshot: Sendable, Equatable {
    public let upperBounds: [Double]
    /// Per bucket (not cumulative); `upperBounds.count + 1` entries.
    public private(set) var counts: [Int]
    public private(set) var sum: Double = 0
    public private(set) var count: Int = 0

    public init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        counts = Array(repeating: 0, count: upperBounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        let bucket = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
        counts[bucket] += 1
        sum += value
        count += 1
    }

    /// Running totals per bound, as Prometheus' `_bucket{le=...}` series want them (last = +Inf).
    public var cumulativeCounts: [Int] {
        var total = 0
        return counts.map { total += $0; return total }
    }
}

/// What one engine iteration did, for metrics and benchmarks (`EngineConfiguration.iterationObserver`).
public struct IterationReport: Sendable, Equatable {
    /// 0-based count of iterations.
    public var index: Int
    /// Schedule + build + forward + sample + emit, in seconds.
    public var durationSeconds: Double
    /// The forward pass alone, in seconds.
    public var forwardSeconds: Double
    /// Rows in the forward pass (prefill + decode).
    public var rowCount: Int
    public var prefillRowCount: Int
    public var decodeRowCount: Int
    /// Sequences with rows in the pass.
    public var sequenceCount: Int
    /// Tokens accepted into sequences (emitted, plus final stop tokens).
    public var generatedTokenCount: Int
    public var preemptionCount: Int
    /// KV blocks in use during the forward pass (reserved for its rows).
    public var kvBlocksUsed: Int
    /// After the iteration:
    public var runningCount: Int
    public var waitingCount: Int
    /// KV entries written, over all running sequences.
    public var kvEntriesUsed: Int
    /// For each request first admitted in this iteration: seconds it waited in the queue since submission.
    public var queueSeconds: [Double] = []
}

/// A snapshot of the engine for `/metrics`, benchmarks and logs; safe to read from any thread.
///
/// The engine's one way out for its figures: the engine thread keeps every counter, gauge and
/// histogram here and publishes the snapshot after each round; `/metrics` renders it as is.
public struct EngineStats: Sendable, Equatable {
    /// Latency bucket bounds in seconds (vLLM's), for the queue-time histogram here and the API's
    /// request latency histograms, so that the series line up.
    public static let latencyBucketSeconds: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
    ]

    public var runningCount = 0
    /// Queued, new or preempted.
    public var waitingCount = 0
    public var kvBlocksUsed = 0
    public var kvBlocksTotal: Int
    /// Entries per block.
    public var kvBlockSize: Int
    /// Most blocks ever in use during a forward pass.
    public var kvBlocksUsedPeak = 0
    /// KV entries written, over all running sequences.
    public var kvEntriesUsed = 0
    public var preemptionsTotal = 0
    /// Prompt tokens looked up in the prefix cache at admissions, and those found there.
    public var prefixCacheQueriesTotal = 0
    public var prefixCacheHitsTotal = 0
    /// Prompt tokens of requests admitted (counted once per request, not again on recompute).
    public var promptTokensTotal = 0
    /// Tokens generated (a final stop token included).
    public var generationTokensTotal = 0
    /// Rows run as prefill (prompts and recomputes) and as decode steps.
    public var prefillRowsTotal = 0
    public var decodeRowsTotal = 0
    /// Requests finished, by reason.
    public var requestsFinished: [FinishReason: Int] = [:]
    /// Requests the engine ended with `GenerationEvent.failed` (forward pass failed, non-finite logits).
    public var requestsFailed = 0
    public var iterationsTotal = 0
    /// Seconds per iteration.
    public var iterationSeconds = HistogramSnapshot(upperBounds: [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ])
    /// Rows (tokens) per iteration (`iteration_tokens_total`, vLLM's buckets).
    public var iterationRows = HistogramSnapshot(upperBounds: [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048])
    /// Seconds each request waited from submission to its first admission.
    public var queueSeconds = HistogramSnapshot(upperBounds: EngineStats.latencyBucketSeconds)
    public var lastIteration: IterationReport?

    // HAMburger: requests in `.hamburger` mode only. Every macro step (one base row of a sequence that
    // produced a group) counts as a speculative "draft" of K - 1 extra tokens of which k - 1 were
    // accepted, so vLLM's spec-decode dashboards read tokens per step and use of the K slots.
    /// Macro steps run (groups produced).
    public var hamburgerMacroStepsTotal = 0
    /// Tokens produced by macro steps (a final stop token included).
    public var hamburgerTokensTotal = 0
    /// Tokens per macro step.
    public var hamburgerTokensPerStep = HistogramSnapshot(upperBounds: [1, 2, 3, 4, 5, 6, 7, 8])
    /// Drafts: one per macro step.
    public var hamburgerDraftsTotal = 0
    /// Draft positions offered: K - 1 per macro step.
    public var hamburgerDraftTokensTotal = 0
    /// Extra tokens emitted: k - 1 per macro step of k tokens.
    public var hamburgerAcceptedTokensTotal = 0
    /// Per extra position p (0-based, K - 1 entries): macro steps that emitted a token there.
    public var hamburgerAcceptedTokensPerPosition: [Int] = []

    /// Base KV entries written per token generated in HAMburger mode (one per macro step): the inverse
    /// of tokens per step; 0 before any macro step.
    public var hamburgerKVEntriesPerGeneratedToken: Double {
        hamburgerTokensTotal == 0 ? 0 : Double(hamburgerMacroStepsTotal) / Double(hamburgerTokensTotal)
    }

    /// Counts one macro step that produced `tokenCount` tokens with at most `maxSteps` per step.
    public mutating func recordMacroStep(tokenCount: Int, maxSteps: Int) {
        hamburgerMacroStepsTotal += 1
        hamburgerTokensTotal += tokenCount
        hamburgerTokensPerStep.observe(Double(tokenCount))
        hamburgerDraftsTotal += 1
        hamburgerDraftTokensTotal += max(maxSteps - 1, 0)
        hamburgerAcceptedTokensTotal += max(tokenCount - 1, 0)
        if hamburgerAcceptedTokensPerPosition.count < maxSteps - 1 {
            hamburgerAcceptedTokensPerPosition += Array(repeating: 0, count: maxSteps - 1 - hamburgerAcceptedTokensPerPosition.count)
        }
        for p in 0 ..< max(0, min(tokenCount - 1, hamburgerAcceptedTokensPerPosition.count)) {
            hamburgerAcceptedTokensPerPosition[p] += 1
        }
    }

    public init(kvBlocksTotal: Int, kvBlockSize: Int) {
        self.kvBlocksTotal = kvBlocksTotal
        self.kvBlockSize = kvBlockSize
    }

    /// Share of KV blocks in use, 0 ... 1.
    public var kvUsage: Double { kvBlocksTotal == 0 ? 0 : Double(kvBlocksUsed) / Double(kvBlocksTotal) }
}
