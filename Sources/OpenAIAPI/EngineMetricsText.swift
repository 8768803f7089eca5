import Engine

/// The engine's Prometheus series, rendered straight from one `EngineStats` snapshot at scrape time:
/// the engine publishes the snapshot (counters, gauges and histograms it keeps itself), /metrics
/// renders it. Nothing is pushed from the engine thread and nothing is replayed, so a scrape shows
/// exactly the snapshot's numbers, and rendering twice shows the same text.
///
/// vLLM's names under the `hamburger:` prefix, plus our own: `request_failure_total` (requests the engine
/// ended because it could not compute them: a forward pass failed or logits were not finite), and
/// HAMburger's `macro_steps_total`, the histogram
/// `tokens_per_step`, the gauge `kv_entries_per_generated_token`, and vLLM's speculative-decoding
/// counters with each macro step counted as a draft of K - 1 extra positions of which k - 1 were
/// accepted (`spec_decode_num_accepted_tokens_per_pos{position}` counts steps that filled extra
/// position `position`, 0-based).
struct EngineMetricsText {
    private(set) var text = ""

    init(_ stats: EngineStats) {
        gauge("hamburger:num_requests_running", "\(stats.runningCount)")
        gauge("hamburger:num_requests_waiting", "\(stats.waitingCount)")
        gauge("hamburger:kv_cache_usage_perc", "\(stats.kvUsage)")
        counter("hamburger:num_preemptions_total", stats.preemptionsTotal)
        counter("hamburger:request_failure_total", stats.requestsFailed)
        counter("hamburger:prefix_cache_queries_total", stats.prefixCacheQueriesTotal)
        counter("hamburger:prefix_cache_hits_total", stats.prefixCacheHitsTotal)
        histogram("hamburger:iteration_tokens_total", stats.iterationRows)
        histogram("hamburger:iteration_duration_seconds", stats.iterationSeconds)
        histogram("hamburger:request_queue_time_seconds", stats.queueSeconds)

        counter("hamburger:macro_steps_total", stats.hamburgerMacroStepsTotal)
        histogram("hamburger:tokens_per_step", stats.hamburgerTokensPerStep)
        gauge("hamburger:kv_entries_per_generated_token", "\(stats.hamburgerKVEntriesPerGeneratedToken)")
        counter("hamburger:spec_decode_num_drafts_total", stats.hamburgerDraftsTotal)
        counter("hamburger:spec_decode_num_draft_tokens_total", stats.hamburgerDraftTokensTotal)
        counter("hamburger:spec_decode_num_accepted_tokens_total", stats.hamburgerAcceptedTokensTotal)
        let perPosition = stats.hamburgerAcceptedTokensPerPosition
        if !perPosition.isEmpty {
            type("hamburger:spec_decode_num_accepted_tokens_per_pos", "counter")
            for (position, total) in perPosition.enumerated() {
                line("hamburger:spec_decode_num_accepted_tokens_per_pos{position=\"\(position)\"}", "\(total)")
            }
        }
    }

    private mutating func type(_ name: String, _ kind: String) {
        text += "# TYPE \(name) \(kind)\n"
    }

    private mutating func line(_ series: String, _ value: String) {
        text += "\(series) \(value)\n"
    }

    private mutating func gauge(_ name: String, _ value: String) {
        type(name, "gauge")
        line(name, value)
    }

    private mutating func counter(_ name: String, _ value: Int) {
        type(name, "counter")
        line(name, "\(value)")
    }

    private mutating func histogram(_ name: String, _ histogram: HistogramSnapshot) {
        type(name, "histogram")
        for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
            line("\(name)_bucket{le=\"\(bound)\"}", "\(count)")
        }
        line("\(name)_bucket{le=\"+Inf\"}", "\(histogram.count)")
        line("\(name)_sum", "\(histogram.sum)")
        line("\(name)_count", "\(histogram.count)")
    }
}
