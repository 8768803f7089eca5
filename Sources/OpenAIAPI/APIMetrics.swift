import CoreMetrics
import Engine
import Foundation
import Prometheus
import Synchronization

/// The server's Prometheus metrics, named and shaped like vLLM's under the `hamburger:` prefix.
///
/// Two sources, one path each: what the API sees (requests, tokens, latencies, HTTP responses) is
/// recorded as requests run, through swift-metrics with a swift-prometheus factory of our own registry
/// (no global bootstrap, so several servers can live in one test process); what the engine counts
/// is rendered at scrape time from its published `EngineStats` snapshot (`EngineMetricsText`).
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    private let promptTokens: CoreMetrics.Counter
    private let generationTokens: CoreMetrics.Counter
    private let clientDisconnects: CoreMetrics.Counter
    private let timeToFirstToken: CoreMetrics.Timer
    private let interTokenLatency: CoreMetrics.Timer
    private let endToEndLatency: CoreMetrics.Timer
    private let counters = Mutex(LabelledCounters())

    /// Counters made on first use, one per label value.
    private struct LabelledCounters {
        var finish: [FinishReason: CoreMetrics.Counter] = [:]
        var http: [String: CoreMetrics.Counter] = [:]
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = EngineStats.latencyBucketSeconds.map { .milliseconds(Int(($0 * 1000).rounded())) }
        self.factory = factory
        promptTokens = CoreMetrics.Counter(label: "hamburger:prompt_tokens_total", factory: factory)
        generationTokens = CoreMetrics.Counter(label: "hamburger:generation_tokens_total", factory: factory)
        clientDisconnects = CoreMetrics.Counter(label: "http_client_disconnects_total", factory: factory)
        timeToFirstToken = CoreMetrics.Timer(label: "hamburger:time_to_first_token_seconds", factory: factory)
        interTokenLatency = CoreMetrics.Timer(label: "hamburger:inter_token_latency_seconds", factory: factory)
        endToEndLatency = CoreMetrics.Timer(label: "hamburger:e2e_request_latency_seconds", factory: factory)
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
        counters.withLock { c in
            let counter = c.finish[reason] ?? CoreMetrics.Counter(
                label: "hamburger:request_success_total", dimensions: [("finished_reason", reason.rawValue)], factory: factory)
            c.finish[reason] = counter
            counter.increment()
        }
    }

    /// Counts one HTTP response.
    func httpResponse(code: Int, method: String) {
        counters.withLock { c in
            let key = "\(code) \(method)"
            let counter = c.http[key] ?? CoreMetrics.Counter(label: "http_requests_total", dimensions: [("code", "\(code)"), ("method", method)], factory: factory)
            c.http[key] = counter
            counter.increment()
        }
    }

    /// The exposition text: the API's series, then the engine's rendered from `stats`.
    public func render(stats: EngineStats) -> String {
        registry.emitToString() + EngineMetricsText(stats).text
    }
}
