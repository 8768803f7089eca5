import CoreMetrics
import Engine
import Prometheus

/// HAMburger's Prometheus metrics, brought up to date from `EngineStats` at scrape time:
/// `hamburger:macro_steps_total`, the histogram `hamburger:tokens_per_step`, the gauge
/// `hamburger:kv_entries_per_generated_token`, and vLLM's speculative-decoding counters under the
/// `hamburger:` prefix, each macro step counted as a draft of K - 1 extra positions of which k - 1
/// were accepted (`spec_decode_num_accepted_tokens_per_pos{position}` counts steps that filled
/// extra position `position`, 0-based).
struct HamburgerMetrics: Sendable {
    static let tokensPerStepLabel = "hamburger:tokens_per_step"
    /// Tokens per step are whole numbers 1 ... K, one bucket each.
    static let tokensPerStepBuckets: [Double] = [1, 2, 3, 4, 5, 6, 7, 8]

    /// The totals already passed on to the counters.
    struct Seen: Sendable {
        var macroSteps = 0
        var stepCounts: [Int] = []
        var drafts = 0
        var draftTokens = 0
        var acceptedTokens = 0
        var acceptedPerPosition: [Int] = []
        var positionCounters: [CoreMetrics.Counter] = []
    }

    private let factory: PrometheusMetricsFactory
    private let macroSteps: CoreMetrics.Counter
    private let tokensPerStep: CoreMetrics.Recorder
    private let kvEntriesPerToken: CoreMetrics.Gauge
    private let drafts: CoreMetrics.Counter
    private let draftTokens: CoreMetrics.Counter
    private let acceptedTokens: CoreMetrics.Counter

    init(factory: PrometheusMetricsFactory) {
        self.factory = factory
        macroSteps = CoreMetrics.Counter(label: "hamburger:macro_steps_total", factory: factory)
        tokensPerStep = CoreMetrics.Recorder(label: Self.tokensPerStepLabel, factory: factory)
        kvEntriesPerToken = CoreMetrics.Gauge(label: "hamburger:kv_entries_per_generated_token", factory: factory)
        drafts = CoreMetrics.Counter(label: "hamburger:spec_decode_num_drafts_total", factory: factory)
        draftTokens = CoreMetrics.Counter(label: "hamburger:spec_decode_num_draft_tokens_total", factory: factory)
        acceptedTokens = CoreMetrics.Counter(label: "hamburger:spec_decode_num_accepted_tokens_total", factory: factory)
    }

    /// Passes on what `stats` counted since `seen`.
    func update(from stats: EngineStats, seen: inout Seen) {
        func advance(_ counter: CoreMetrics.Counter, _ total: Int, _ last: inout Int) {
            if total > last { counter.increment(by: total - last) }
            last = max(last, total)
        }
        advance(macroSteps, stats.hamburgerMacroStepsTotal, &seen.macroSteps)
        advance(drafts, stats.hamburgerDraftsTotal, &seen.drafts)
        advance(draftTokens, stats.hamburgerDraftTokensTotal, &seen.draftTokens)
        advance(acceptedTokens, stats.hamburgerAcceptedTokensTotal, &seen.acceptedTokens)
        // Steps are whole token counts, so re-recording each new observation at its bucket's bound is exact.
        let counts = stats.hamburgerTokensPerStep.counts
        if seen.stepCounts.count < counts.count { seen.stepCounts += Array(repeating: 0, count: counts.count - seen.stepCounts.count) }
        let bounds = stats.hamburgerTokensPerStep.upperBounds
        for (bucket, count) in counts.enumerated() where count > seen.stepCounts[bucket] {
            let value = bucket < bounds.count ? bounds[bucket] : (bounds.last ?? 0) + 1
            for _ in seen.stepCounts[bucket] ..< count { tokensPerStep.record(value) }
            seen.stepCounts[bucket] = count
        }
        kvEntriesPerToken.record(stats.hamburgerKVEntriesPerGeneratedToken)
        let perPosition = stats.hamburgerAcceptedTokensPerPosition
        while seen.positionCounters.count < perPosition.count {
            seen.positionCounters.append(CoreMetrics.Counter(
                label: "hamburger:spec_decode_num_accepted_tokens_per_pos", dimensions: [("position", "\(seen.positionCounters.count)")],
                factory: factory))
            seen.acceptedPerPosition.append(0)
        }
        for (position, total) in perPosition.enumerated() {
            advance(seen.positionCounters[position], total, &seen.acceptedPerPosition[position])
        }
    }
}
