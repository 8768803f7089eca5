import Engine
import Testing
@testable import OpenAIAPI

/// The engine's series rendered from one snapshot: the snapshot's numbers as they are, the same text
/// on every render (nothing replayed or pushed), KV usage from `EngineStats.kvUsage`.
@Suite struct EngineMetricsTextTests {
    static func stats() -> EngineStats {
        var stats = EngineStats(kvBlocksTotal: 8, kvBlockSize: 16)
        stats.runningCount = 3
        stats.waitingCount = 2
        stats.kvBlocksUsed = 2
        stats.preemptionsTotal = 1
        stats.requestsFailed = 2
        stats.prefixCacheQueriesTotal = 40
        stats.prefixCacheHitsTotal = 16
        for rows in [1.0, 12, 300] { stats.iterationRows.observe(rows) }
        stats.queueSeconds.observe(0.003)
        return stats
    }

    @Test func theSnapshotIsRenderedAsIs() {
        let lines = Set(EngineMetricsText(Self.stats()).text.split(separator: "\n").map(String.init))
        for expected in [
            "hamburger:num_requests_running 3", "hamburger:num_requests_waiting 2", "hamburger:kv_cache_usage_perc 0.25",
            "hamburger:num_preemptions_total 1", "hamburger:request_failure_total 2", "hamburger:prefix_cache_queries_total 40", "hamburger:prefix_cache_hits_total 16",
            #"hamburger:iteration_tokens_total_bucket{le="1.0"} 1"#, #"hamburger:iteration_tokens_total_bucket{le="16.0"} 2"#,
            #"hamburger:iteration_tokens_total_bucket{le="+Inf"} 3"#, "hamburger:iteration_tokens_total_count 3",
            "hamburger:iteration_tokens_total_sum 313.0", #"hamburger:request_queue_time_seconds_bucket{le="0.001"} 0"#,
            #"hamburger:request_queue_time_seconds_bucket{le="0.005"} 1"#, "hamburger:request_queue_time_seconds_count 1",
            "# TYPE hamburger:iteration_tokens_total histogram", "# TYPE hamburger:num_requests_running gauge",
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
    }

    @Test func renderingTwiceShowsTheSameEngineSeries() {
        let metrics = APIMetrics()
        let stats = Self.stats()
        let first = metrics.render(stats: stats)
        #expect(metrics.render(stats: stats) == first)
        #expect(first.hasSuffix(EngineMetricsText(stats).text))
    }
}
