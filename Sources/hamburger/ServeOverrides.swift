import ArgumentParser

/// The `hamburger serve` flags: one per configuration key, overriding the file and the environment.
struct ServeOverrides: ParsableArguments {
    @Option(name: .customLong("host"), help: ArgumentHelp(ConfigKey.named["host"]!.help, valueName: "value"))
    var host: String?
    @Option(name: .customLong("port"), help: ArgumentHelp(ConfigKey.named["port"]!.help, valueName: "value"))
    var port: String?
    @Option(name: .customLong("model"), help: ArgumentHelp(ConfigKey.named["model"]!.help, valueName: "value"))
    var model: String?
    @Option(name: .customLong("served-model-name"), help: ArgumentHelp(ConfigKey.named["served_model_name"]!.help, valueName: "value"))
    var servedModelName: String?
    @Option(name: .customLong("adapter"), help: ArgumentHelp(ConfigKey.named["adapter"]!.help, valueName: "value"))
    var adapter: String?
    @Option(name: .customLong("decoding"), help: ArgumentHelp(ConfigKey.named["decoding"]!.help, valueName: "value"))
    var decoding: String?
    @Option(name: .customLong("hamburger-confidence"), help: ArgumentHelp(ConfigKey.named["hamburger_confidence"]!.help, valueName: "value"))
    var hamburgerConfidence: String?
    @Option(name: .customLong("hamburger-min-probability"), help: ArgumentHelp(ConfigKey.named["hamburger_min_probability"]!.help, valueName: "value"))
    var hamburgerMinProbability: String?
    @Option(name: .customLong("api-keys"), help: ArgumentHelp(ConfigKey.named["api_keys"]!.help, valueName: "value"))
    var apiKeys: String?
    @Option(name: .customLong("cors-origins"), help: ArgumentHelp(ConfigKey.named["cors_origins"]!.help, valueName: "value"))
    var corsOrigins: String?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(ConfigKey.named["tls_cert"]!.help, valueName: "value"))
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp(ConfigKey.named["tls_key"]!.help, valueName: "value"))
    var tlsKey: String?
    @Option(name: .customLong("max-body-bytes"), help: ArgumentHelp(ConfigKey.named["max_body_bytes"]!.help, valueName: "value"))
    var maxBodyBytes: String?
    @Option(name: .customLong("max-header-bytes"), help: ArgumentHelp(ConfigKey.named["max_header_bytes"]!.help, valueName: "value"))
    var maxHeaderBytes: String?
    @Option(name: .customLong("header-timeout-seconds"), help: ArgumentHelp(ConfigKey.named["header_timeout_seconds"]!.help, valueName: "value"))
    var headerTimeoutSeconds: String?
    @Option(name: .customLong("keep-alive-timeout-seconds"), help: ArgumentHelp(ConfigKey.named["keep_alive_timeout_seconds"]!.help, valueName: "value"))
    var keepAliveTimeoutSeconds: String?
    @Option(name: .customLong("body-timeout-seconds"), help: ArgumentHelp(ConfigKey.named["body_timeout_seconds"]!.help, valueName: "value"))
    var bodyTimeoutSeconds: String?
    @Option(name: .customLong("write-timeout-seconds"), help: ArgumentHelp(ConfigKey.named["write_timeout_seconds"]!.help, valueName: "value"))
    var writeTimeoutSeconds: String?
    @Option(name: .customLong("max-connections"), help: ArgumentHelp(ConfigKey.named["max_connections"]!.help, valueName: "value"))
    var maxConnections: String?
    @Option(name: .customLong("kv-cache-bytes"), help: ArgumentHelp(ConfigKey.named["kv_cache_bytes"]!.help, valueName: "value"))
    var kvCacheBytes: String?
    @Option(name: .customLong("kv-cache-dtype"), help: ArgumentHelp(ConfigKey.named["kv_cache_dtype"]!.help, valueName: "value"))
    var kvCacheDtype: String?
    @Option(name: .customLong("enable-prefix-caching"), help: ArgumentHelp(ConfigKey.named["enable_prefix_caching"]!.help, valueName: "true|false"))
    var enablePrefixCaching: String?
    @Option(name: .customLong("block-size"), help: ArgumentHelp(ConfigKey.named["block_size"]!.help, valueName: "value"))
    var blockSize: String?
    @Option(name: .customLong("max-num-seqs"), help: ArgumentHelp(ConfigKey.named["max_num_seqs"]!.help, valueName: "value"))
    var maxNumSeqs: String?
    @Option(name: .customLong("max-batched-tokens"), help: ArgumentHelp(ConfigKey.named["max_batched_tokens"]!.help, valueName: "value"))
    var maxBatchedTokens: String?
    @Option(name: .customLong("max-model-len"), help: ArgumentHelp(ConfigKey.named["max_model_len"]!.help, valueName: "value"))
    var maxModelLen: String?
    @Option(name: .customLong("max-queued-requests"), help: ArgumentHelp(ConfigKey.named["max_queued_requests"]!.help, valueName: "value"))
    var maxQueuedRequests: String?
    @Option(name: .customLong("shutdown-timeout-seconds"), help: ArgumentHelp(ConfigKey.named["shutdown_timeout_seconds"]!.help, valueName: "value"))
    var shutdownTimeoutSeconds: String?
    @Option(name: .customLong("weights"), help: ArgumentHelp(ConfigKey.named["weights"]!.help, valueName: "value"))
    var weights: String?
    @Option(name: .customLong("threads"), help: ArgumentHelp(ConfigKey.named["threads"]!.help, valueName: "value"))
    var threads: String?
    @Option(name: .customLong("log-level"), help: ArgumentHelp(ConfigKey.named["log_level"]!.help, valueName: "value"))
    var logLevel: String?

    /// The flags that were given, by configuration key.
    var values: [String: String] {
        let all: [(String, String?)] = [
            ("host", host),
            ("port", port),
            ("model", model),
            ("served_model_name", servedModelName),
            ("adapter", adapter),
            ("decoding", decoding),
            ("hamburger_confidence", hamburgerConfidence),
            ("hamburger_min_probability", hamburgerMinProbability),
            ("api_keys", apiKeys),
            ("cors_origins", corsOrigins),
            ("tls_cert", tlsCert),
            ("tls_key", tlsKey),
            ("max_body_bytes", maxBodyBytes),
            ("max_header_bytes", maxHeaderBytes),
            ("header_timeout_seconds", headerTimeoutSeconds),
            ("keep_alive_timeout_seconds", keepAliveTimeoutSeconds),
            ("body_timeout_seconds", bodyTimeoutSeconds),
            ("write_timeout_seconds", writeTimeoutSeconds),
            ("max_connections", maxConnections),
            ("kv_cache_bytes", kvCacheBytes),
            ("kv_cache_dtype", kvCacheDtype),
            ("enable_prefix_caching", enablePrefixCaching),
            ("block_size", blockSize),
            ("max_num_seqs", maxNumSeqs),
            ("max_batched_tokens", maxBatchedTokens),
            ("max_model_len", maxModelLen),
            ("max_queued_requests", maxQueuedRequests),
            ("shutdown_timeout_seconds", shutdownTimeoutSeconds),
            ("weights", weights),
            ("threads", threads),
            ("log_level", logLevel)
        ]
        return Dictionary(uniqueKeysWithValues: all.compactMap { key, value in value.map { (key, $0) } })
    }
}
