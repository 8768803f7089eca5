import Foundation
import KVCache
import Llama
import Yams

/// The server's configuration: `config/hamburger.yaml`, then `HAMBURGER_*` environment variables, then
/// `hamburger serve` flags, each later source overriding the earlier. Every key is in `ConfigKey.all`
/// with its type, default and documentation; an invalid value stops start-up with a message naming
/// the key and where the value came from.
struct ServerConfiguration: Sendable {
    var host = "127.0.0.1"
    var port = 8000
    var model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    var servedModelName = "SmolLM2-135M-Instruct"
    var adapter = "models/hamburger-smollm2-135m.json"
    var decoding = "autoregressive"
    var hamburgerConfidence: Double?
    var hamburgerMinProbability: Double?
    var apiKeys: [String] = []
    var corsOrigins: [String] = []
    var tlsCert: String?
    var tlsKey: String?
    var maxBodyBytes = 4 * 1024 * 1024
    var maxHeaderBytes = 16 * 1024
    var headerTimeoutSeconds = 10.0
    var keepAliveTimeoutSeconds = 30.0
    var bodyTimeoutSeconds = 30.0
    var writeTimeoutSeconds = 30.0
    var maxConnections = 512
    var kvCacheBytes = 256 * 1024 * 1024
    var kvCacheDtype = KVElementType.int8
    var enablePrefixCaching = true
    var blockSize = 16
    var maxNumSeqs = 64
    var maxBatchedTokens = 512
    var maxModelLen: Int?
    var maxQueuedRequests = 256
    var shutdownTimeoutSeconds = 30.0
    var threads = 0
    var weights = "native-int8x2"
    var logLevel = "info"

    /// Loads `path` (if it exists or was named explicitly), then applies environment and flag overrides.
    static func load(path: String?, environment: [String: String], overrides: [String: String]) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError("cannot read the configuration file '\(path)'")
            }
            let node: Any?
            do { node = try Yams.load(yaml: text) } catch {
                throw ConfigurationError("'\(path)' is not valid YAML: \(error)")
            }
            if let node {
                guard let mapping = node as? [String: Any] else { throw ConfigurationError("'\(path)' must be a mapping of keys to values") }
                for (key, value) in mapping {
                    guard let spec = ConfigKey.named[key] else {
                        throw ConfigurationError("unknown key '\(key)' in '\(path)'; known keys: \(ConfigKey.all.map(\.name).joined(separator: ", "))")
                    }
                    try spec.apply(value, to: &config, source: "'\(path)'")
                }
            }
        }
        for spec in ConfigKey.all {
            if let value = environment[spec.environmentName] {
                try spec.apply(value, to: &config, source: "environment variable \(spec.environmentName)")
            }
        }
        for (name, value) in overrides {
            guard let spec = ConfigKey.named[name] else { throw ConfigurationError("unknown configuration key '\(name)'") }
            try spec.apply(value, to: &config, source: "flag --\(spec.flagName)")
        }
        try config.validate()
        return config
    }

    /// Cross-key and range checks.
    func validate() throws {
        func check(_ ok: Bool, _ key: String, _ why: String) throws {
            if !ok { throw ConfigurationError("configuration key '\(key)': \(why)") }
        }
        try check((0...65535).contains(port), "port", "must be 0...65535")
        try check(["autoregressive", "hamburger"].contains(decoding), "decoding", "must be 'autoregressive' or 'hamburger'")
        if let c = hamburgerConfidence { try check(c > 0 && c <= 1, "hamburger_confidence", "must be in (0, 1]") }
        if let p = hamburgerMinProbability { try check(p >= 0 && p < 1, "hamburger_min_probability", "must be in [0, 1)") }
        try check((tlsCert == nil) == (tlsKey == nil), "tls_cert", "tls_cert and tls_key must be set together")
        try check(maxBodyBytes > 0, "max_body_bytes", "must be positive")
        try check(maxHeaderBytes >= 1024, "max_header_bytes", "must be at least 1024")
        try check(headerTimeoutSeconds > 0, "header_timeout_seconds", "must be positive")
        try check(keepAliveTimeoutSeconds > 0, "keep_alive_timeout_seconds", "must be positive")
        try check(bodyTimeoutSeconds > 0, "body_timeout_seconds", "must be positive")
        try check(writeTimeoutSeconds > 0, "write_timeout_seconds", "must be positive")
        try check(maxConnections > 0, "max_connections", "must be positive")
        try check(kvCacheBytes > 0, "kv_cache_bytes", "must be positive")
        try check(blockSize > 0 && blockSize <= 1024, "block_size", "must be 1...1024")
        try check(maxNumSeqs > 0, "max_num_seqs", "must be positive")
        try check(maxBatchedTokens > 0, "max_batched_tokens", "must be positive")
        if let m = maxModelLen { try check(m > 0, "max_model_len", "must be positive") }
        try check(maxQueuedRequests > 0, "max_queued_requests", "must be positive")
        try check(shutdownTimeoutSeconds >= 0, "shutdown_timeout_seconds", "must not be negative")
        try check(threads >= 0, "threads", "must be 0 (all cores) or more")
        try check(WeightPrecision(rawValue: weights) != nil, "weights", "must be native-int8x2, native, native-int8, bf16 or f32")
        try check(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel), "log_level", "must be one of trace, debug, info, notice, warning, error, critical")
    }
}

/// A configuration problem, reported before the server starts.
struct ConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
