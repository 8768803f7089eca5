import CoreMetrics
import Engine
import Foundation
import Prometheus
import Synchronization

/// The server's Prometheus metrics, named and shaped like vLLM's under the `hamburger:` prefix, made
/// through swift-metrics with a swift-prometheus factory of our own registry (no global bootstrap, so
/// several servers can live in one test process). Engine gauges are read from `EngineStats` at scrape
/// time; request counters and latency histograms are recorded as requests run.
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    private let promptTokens: CoreMetrics.Counter
    private let generationTokens: CoreMetrics.Counter
    private let clientDisconnects: CoreMetrics.Counter
    private let timeToFirstToken: CoreMetrics.Timer
    private let interTokenLatency: CoreMetrics.Timer
    private let endToEndLatency: CoreMetrics.Timer
    let queueTime: CoreMetrics.Timer
    private let running: CoreMetrics.Gauge
    private let waiting: CoreMetrics.Gauge
    private let kvUsage: CoreMetrics.Gauge
    private let preemptions: CoreMetrics.Counter
    /// Prompt tokens looked up in the prefix cache, and those found (vLLM counts tokens).
    private let prefixCacheQueries: CoreMetrics.Counter
    private let prefixCacheHits: CoreMetrics.Counter
    private let iterationTokens: CoreMetrics.Recorder
    private let hamburgerMetrics: HamburgerMetrics
    private let seen = Mutex(Seen())

    private struct Seen {
        var preemptions = 0
        var prefixCacheQueries = 0
        var prefixCacheHits = 0
        var iterations = 0
        var hamburger = HamburgerMetrics.Seen()
        var finishCounters: [FinishReason: CoreMetrics.Counter] = [:]
        var httpCounters: [String: CoreMetrics.Counter] = [:]
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let latencyBuckets: [Duration] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80].map { .milliseconds(Int($0 * 1000)) }
        factory.defaultDurationHistogramBuckets = latencyBuckets
        factory.valueHistogramBuckets["hamburger:iteration_tokens_total"] = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
        factory.valueHistogramBuckets[HamburgerMetrics.tokensPerStepLabel] = HamburgerMetrics.tokensPerStepBuckets
        self.factory = factory
        promptTokens = CoreMetrics.Counter(label: "hamburger:prompt_tokens_total", factory: factory)
        generationTokens = CoreMetrics.Counter(label: "hamburger:generation_tokens_total", factory: factory)
        clientDisconnects = CoreMetrics.Counter(label: "http_client_disconnects_total", factory: factory)
        timeToFirstToken = CoreMetrics.Timer(label: "hamburger:time_to_first_token_seconds", factory: factory)
        interTokenLatency = CoreMetrics.Timer(label: "hamburger:inter_token_latency_seconds", factory: factory)
        endToEndLatency = CoreMetrics.Timer(label: "hamburger:e2e_request_latency_seconds", factory: factory)
        queueTime = CoreMetrics.Timer(label: "hamburger:request_queue_time_seconds", factory: factory)
        running = CoreMetrics.Gauge(label: "hamburger:num_requests_running", factory: factory)
        waiting = CoreMetrics.Gauge(label: "hamburger:num_requests_waiting", factory: factory)
        kvUsage = CoreMetrics.Gauge(label: "hamburger:kv_cache_usage_perc", factory: factory)
        preemptions = CoreMetrics.Counter(label: "hamburger:num_preemptions_total", factory: factory)
        prefixCacheQueries = CoreMetrics.Counter(label: "hamburger:prefix_cache_queries_total", factory: factory)
        prefixCacheHits = CoreMetrics.Counter(label: "hamburger:prefix_cache_hits_total", factory: factory)
        iterationTokens = CoreMetrics.Recorder(label: "hamburger:iteration_tokens_total", factory: factory)
        hamburgerMetrics = HamburgerMetrics(factory: factory)
    }

    /// Publishes the KV cache geometry as vLLM's `cache_config_info` (value 1, facts in labels);
    /// `cacheDtype` is the KV element type's configuration name (`float32`, `bfloat16`, `float16`).
    public func recordCacheConfig(blockSize: Int, blockCount: Int, cacheDtype: String = "float32") {
        CoreMetrics.Gauge(label: "hamburger:cache_config_info",
                          dimensions: [("block_size", "\(blockSize)"), ("num_cpu_blocks", "\(blockCount)"), ("cache_dtype", cacheDtype)],
                          factory: factory).record(1)
    }

    /// Records one figure a completion response produced.
    func record(_ measurement: CompletionStream.Measurement) {
        switch measurement {
        case let .promptTokens(count): promptTokens.increment(by: count)
        case let .generationTokens(count): generationTokens.increment(by: count)
        case let .timeToFirstToken(ns): timeToFirstToken.recordNanoseconds(Int64(clamping: ns))
        case let .interTokenLatency(ns): interTokenLatency.recordNanoseconds(Int64(clamping: ns))
        case let .endToEndLatency(ns): endToEndLatency.recordNanoseconds(Int64(clamping: ns))
        case let .requestFinished(reason): requestFinished(reason: reason)
        case .clientDisconnect: clientDisconnects.increment()
        }
    }

    /// Counts a finished request by its OpenAI finish reason.
    func requestFinished(reason: FinishReason) {
        seen.withLock { s in
            let counter = s.finishCounters[reason] ?? CoreMetrics.Counter(
                label: "hamburger:request_success_total", dimensions: [("finished_reason", reason.rawValue)], factory: factory)
            s.finishCounters[reason] = counter
            counter.increment()
        }
    }

    /// Counts one HTTP response.
    func httpResponse(code: Int, method: String) {
        seen.withLock { s in
            let key = "\(code) \(method)"
            let counter = s.httpCounters[key] ?? CoreMetrics.Counter(label: "http_requests_total", dimensions: [("code", "\(code)"), ("method", method)], factory: factory)
            s.httpCounters[key] = counter
            counter.increment()
        }
    }

    /// Refreshes the engine-derived metrics from a stats snapshot and renders the exposition text.
    public func render(stats: EngineStats) -> String {
        running.record(stats.runningCount)
        waiting.record(stats.waitingCount)
        kvUsage.record(stats.kvBlocksTotal > 0 ? Double(stats.kvBlocksUsed) / Double(stats.kvBlocksTotal) : 0)
        seen.withLock { s in
            if stats.preemptionsTotal > s.preemptions {
                preemptions.increment(by: stats.preemptionsTotal - s.preemptions)
                s.preemptions = stats.preemptionsTotal
            }
            if stats.prefixCacheQueriesTotal > s.prefixCacheQueries {
                prefixCacheQueries.increment(by: stats.prefixCacheQueriesTotal - s.prefixCacheQueries)
                s.prefixCacheQueries = stats.prefixCacheQueriesTotal
            }
            if stats.prefixCacheHitsTotal > s.prefixCacheHits {
                prefixCacheHits.increment(by: stats.prefixCacheHitsTotal - s.prefixCacheHits)
                s.prefixCacheHits = stats.prefixCacheHitsTotal
            }
            hamburgerMetrics.update(from: stats, seen: &s.hamburger)
        }
        return registry.emitToString()
    }

    /// Records one engine iteration's row count (for `iteration_tokens_total`).
    public func recordIteration(rowCount: Int, queueSeconds: [Double] = []) {
        iterationTokens.record(rowCount)
        for seconds in queueSeconds { queueTime.recordNanoseconds(Int64(seconds * 1e9)) }
    }
}
