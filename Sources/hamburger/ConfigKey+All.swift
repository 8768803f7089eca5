import KVCache

extension ConfigKey {
    /// Every key of `config/hamburger.yaml`, in the file's order.
    static let all: [ConfigKey] = [
        .init(name: "host", kind: .string, help: "Address to listen on (127.0.0.1, 0.0.0.0, :: for IPv6 + IPv4).") { $0.host = $1.string ?? $0.host },
        .init(name: "port", kind: .int, help: "TCP port (0 picks a free one).") { $0.port = $1.int ?? $0.port },
        .init(name: "model", kind: .string, help: "Path to the GGUF model file.") { $0.model = $1.string ?? $0.model },
        .init(name: "served_model_name", kind: .string, help: "Model name clients pass in 'model' and /v1/models lists.") { $0.servedModelName = $1.string ?? $0.servedModelName },
        .init(name: "adapter", kind: .string, help: "HAMburger adapter JSON (its safetensors file sits beside it).") { $0.adapter = $1.string ?? $0.adapter },
        .init(name: "decoding", kind: .string, help: "Default decoding mode: autoregressive or hamburger.") { $0.decoding = $1.string ?? $0.decoding },
        .init(name: "hamburger_confidence", kind: .optionalDouble, help: "Default HAMburger confidence in (0, 1]; null = the adapter's default.") { $0.hamburgerConfidence = $1.double },
        .init(name: "hamburger_min_probability", kind: .optionalDouble, help: "Default HAMburger micro-token probability floor in [0, 1) (a micro token the micro decoder gives less is dropped and its group ends); 0 = off, null = the adapter's default.") { $0.hamburgerMinProbability = $1.double },
        .init(name: "api_keys", kind: .stringList, help: "Accepted API keys (Authorization: Bearer KEY); empty = no authentication.") { $0.apiKeys = $1.list },
        .init(name: "cors_origins", kind: .stringList, help: "Origins allowed by CORS ('*' for any); empty = no CORS headers.") { $0.corsOrigins = $1.list },
        .init(name: "tls_cert", kind: .optionalString, help: "PEM certificate; with tls_key, serve HTTPS.") { $0.tlsCert = $1.string },
        .init(name: "tls_key", kind: .optionalString, help: "PEM private key for tls_cert.") { $0.tlsKey = $1.string },
        .init(name: "max_body_bytes", kind: .int, help: "Largest request body; larger gets 413.") { $0.maxBodyBytes = $1.int ?? $0.maxBodyBytes },
        .init(name: "max_header_bytes", kind: .int, help: "Largest request line + headers; larger gets 431.") { $0.maxHeaderBytes = $1.int ?? $0.maxHeaderBytes },
        .init(name: "header_timeout_seconds", kind: .double, help: "Time allowed to send a request's headers (slowloris guard; 408).") { $0.headerTimeoutSeconds = $1.double ?? $0.headerTimeoutSeconds },
        .init(name: "keep_alive_timeout_seconds", kind: .double, help: "Idle keep-alive connections close after this.") { $0.keepAliveTimeoutSeconds = $1.double ?? $0.keepAliveTimeoutSeconds },
        .init(name: "body_timeout_seconds", kind: .double, help: "Longest gap between request-body bytes (slow-body guard; 408).") { $0.bodyTimeoutSeconds = $1.double ?? $0.bodyTimeoutSeconds },
        .init(name: "write_timeout_seconds", kind: .double, help: "A connection whose pending output makes no progress this long is closed (a client that stopped reading; its request is cancelled).") { $0.writeTimeoutSeconds = $1.double ?? $0.writeTimeoutSeconds },
        .init(name: "max_connections", kind: .int, help: "Open connections at most; more get 503.") { $0.maxConnections = $1.int ?? $0.maxConnections },
        .init(name: "kv_cache_bytes", kind: .int, help: "Memory for the paged KV cache (K and V, all layers).") { $0.kvCacheBytes = $1.int ?? $0.kvCacheBytes },
        .init(name: "kv_cache_dtype", kind: .choice(KVElementType.allCases.map(\.rawValue)),
              help: "How KV entries are stored: int8 (groups of 32 values with one scale, 0.28x the bytes of float32), float16, bfloat16 (half) or float32.") {
            $0.kvCacheDtype = $1.string.flatMap(KVElementType.init(rawValue:)) ?? $0.kvCacheDtype
        },
        .init(name: "enable_prefix_caching", kind: .choice(["true", "false"]),
              help: "Keep full prompt blocks after a request and share them with later requests that start the same way (evicted least recently used when memory is needed).") {
            $0.enablePrefixCaching = $1.string.map { $0 == "true" } ?? $0.enablePrefixCaching
        },
        .init(name: "block_size", kind: .int, help: "KV entries per cache block.") { $0.blockSize = $1.int ?? $0.blockSize },
        .init(name: "max_num_seqs", kind: .int, help: "Sequences running at once.") { $0.maxNumSeqs = $1.int ?? $0.maxNumSeqs },
        .init(name: "max_batched_tokens", kind: .int, help: "Rows in one engine iteration (prefill chunks + decode rows).") { $0.maxBatchedTokens = $1.int ?? $0.maxBatchedTokens },
        .init(name: "max_model_len", kind: .optionalInt, help: "Prompt + max_tokens limit; null = the model's context length.") { $0.maxModelLen = $1.int },
        .init(name: "max_queued_requests", kind: .int, help: "Waiting requests at most; more get 503 with Retry-After.") { $0.maxQueuedRequests = $1.int ?? $0.maxQueuedRequests },
        .init(name: "shutdown_timeout_seconds", kind: .double, help: "On SIGTERM/SIGINT, how long in-flight requests may finish.") { $0.shutdownTimeoutSeconds = $1.double ?? $0.shutdownTimeoutSeconds },
        .init(name: "weights", kind: .string, help: "How weights are kept: native-int8x2 (the file's quantized blocks repacked, integer products on two-digit int8 activations; default), native (the blocks in place, float activations), native-int8 (one digit: fastest, below the quality bar), bf16 or f32.") { $0.weights = $1.string ?? $0.weights },
        .init(name: "threads", kind: .int, help: "Compute threads; 0 = all cores.") { $0.threads = $1.int ?? $0.threads },
        .init(name: "log_level", kind: .string, help: "trace, debug, info, notice, warning, error or critical.") { $0.logLevel = $1.string ?? $0.logLevel },
    ]
}
