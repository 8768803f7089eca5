import ArgumentParser
import Dispatch
import Engine
import Foundation
import GGUF
import HTTPServer
import Hamburger
import KVCache
import Kernels
import Llama
import Logging
import OpenAIAPI
import Tokenization

#if canImport(Glibc)
import Glibc
#endif

/// `hamburger serve`: the OpenAI-style HTTP server on the configured model.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API (see config/hamburger.yaml)."
    )

    @Option(help: "YAML configuration file (default: config/hamburger.yaml when it exists).")
    var config: String?

    @OptionGroup var overrides: ServeOverrides

    func run() throws {
        let path = config ?? (FileManager.default.fileExists(atPath: "config/hamburger.yaml") ? "config/hamburger.yaml" : nil)
        let settings: ServerConfiguration
        do {
            settings = try ServerConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment, overrides: overrides.values)
        } catch {
            throw CLIError("invalid configuration: \(error)")
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "hamburger.serve")
        let server = try ServerRuntime(settings: settings, logger: logger)
        try server.start()
        dispatchMain()
    }
}

/// The running server: HTTP listener first (so /health answers 503 while the model loads), then the
/// model, tokenizer and engine, then signal handling that drains on SIGTERM/SIGINT.
final class ServerRuntime: @unchecked Sendable {
    let settings: ServerConfiguration
    let logger: Logger
    let handler: OpenAIHandler
    let http: HTTPServer
    var engine: InferenceEngine?
    private var signalSources: [DispatchSourceSignal] = []

    init(settings: ServerConfiguration, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        let metrics = APIMetrics()
        let defaultDecoding = Self.defaultDecoding(settings, logger: logger)
        handler = OpenAIHandler(
            settings: APISettings(
                servedModelName: settings.servedModelName,
                apiKeys: Set(settings.apiKeys), corsOrigins: settings.corsOrigins,
                defaultDecoding: defaultDecoding,
                createdAt: Int(Date().timeIntervalSince1970)),
            metrics: metrics, logger: Logger(label: "hamburger.http"))
        var httpConfig = HTTPServerConfiguration(host: settings.host, port: settings.port, maxConnections: settings.maxConnections)
        httpConfig.limits.maxBodyBytes = settings.maxBodyBytes
        httpConfig.limits.maxHeaderBytes = settings.maxHeaderBytes
        httpConfig.timeouts.headerTimeout = .milliseconds(Int(settings.headerTimeoutSeconds * 1000))
        httpConfig.timeouts.keepAliveTimeout = .milliseconds(Int(settings.keepAliveTimeoutSeconds * 1000))
        httpConfig.timeouts.bodyTimeout = .milliseconds(Int(settings.bodyTimeoutSeconds * 1000))
        httpConfig.timeouts.writeTimeout = .milliseconds(Int(settings.writeTimeoutSeconds * 1000))
        if let cert = settings.tlsCert, let key = settings.tlsKey {
            httpConfig.tls = .init(certificatePath: cert, privateKeyPath: key)
        }
        do {
            http = try HTTPServer(configuration: httpConfig, handler: handler)
        } catch {
            throw CLIError("cannot set up the HTTP server: \(error)")
        }
    }

    /// The decoding mode of requests that name none: HAMburger when configured and the adapter file
    /// exists (confidence: configured, else the adapter JSON's default), autoregressive otherwise.
    static func defaultDecoding(_ settings: ServerConfiguration, logger: Logger) -> DecodingMode {
        guard settings.decoding == "hamburger" else { return .autoregressive }
        guard let data = FileManager.default.contents(atPath: settings.adapter) else {
            logger.warning("decoding: hamburger is configured but the adapter \(settings.adapter) does not exist; serving autoregressive by default, and HAMburger requests are refused")
            return .autoregressive
        }
        let adapter = try? AdapterConfiguration.decode(data, path: settings.adapter)
        return .hamburger(confidence: Float(settings.hamburgerConfidence ?? adapter?.defaultConfidence ?? 0.9),
                          minProbability: Float(settings.hamburgerMinProbability ?? adapter?.defaultMinProbability ?? 0))
    }

    /// The HAMburger adapter for `model` when its file exists. A missing file leaves the server
    /// autoregressive (HAMburger requests get a 400); a damaged one stops start-up when HAMburger is
    /// the configured default, and is otherwise logged and left out.
    func loadHamburger(model: LlamaModel) throws -> HamburgerAdapter? {
        guard FileManager.default.fileExists(atPath: settings.adapter) else {
            logger.warning("HAMburger adapter \(settings.adapter) not found: serving autoregressive only; requests with decoding: hamburger get 400")
            return nil
        }
        do {
            let adapter = try HamburgerAdapter(path: settings.adapter, baseModelPath: settings.model, hyperparameters: model.hyperparameters)
            logger.info("HAMburger adapter \(settings.adapter): K = \(adapter.maxSteps), features \(adapter.featureLayers) + final, default confidence \(adapter.defaultConfidence), min probability \(adapter.defaultMinProbability)")
            return adapter
        } catch {
            if settings.decoding == "hamburger" { throw CLIError("cannot load the HAMburger adapter: \(error)") }
            logger.error("cannot load the HAMburger adapter, serving autoregressive only: \(error)")
            return nil
        }
    }

    func start() throws {
        signal(SIGPIPE, SIG_IGN)
        do { try http.start() } catch { throw CLIError("cannot listen on \(settings.host):\(settings.port): \(error)") }
        let scheme = settings.tlsCert == nil ? "http" : "https"
        logger.info("listening on \(scheme)://\(http.localAddress.map { "\($0)" } ?? "\(settings.host):\(settings.port)")")
        installSignalHandlers()

        let started = DispatchTime.now()
        let model = try CommandSupport.loadModel(settings.model, precision: WeightPrecision(rawValue: settings.weights) ?? .nativeInt8x2, threads: settings.threads)
        let (tokenizer, template) = try CommandSupport.loadTokenization(settings.model)
        let maxModelLength = min(settings.maxModelLen ?? model.hyperparameters.contextLength, model.hyperparameters.contextLength)
        var engineConfig = EngineConfiguration()
        engineConfig.maxSequenceCount = settings.maxNumSeqs
        engineConfig.maxBatchedTokens = settings.maxBatchedTokens
        engineConfig.maxModelLength = maxModelLength
        engineConfig.kvBlockSize = settings.blockSize
        engineConfig.kvCapacity = .bytes(settings.kvCacheBytes)
        engineConfig.kvElementType = settings.kvCacheDtype
        engineConfig.enablePrefixCaching = settings.enablePrefixCaching
        engineConfig.maxWaitingRequests = settings.maxQueuedRequests
        let metrics = handler.metrics
        let adapter = try loadHamburger(model: model)
        let engine: InferenceEngine
        do {
            engine = try InferenceEngine(model: model, configuration: engineConfig, adapter: adapter)
        } catch {
            throw CLIError("cannot start the engine: \(error)")
        }
        self.engine = engine
        handler.attach(ServedModel(engine: engine, tokenizer: tokenizer, chatTemplate: template, maxModelLength: maxModelLength))
        let stats = engine.stats()
        metrics.recordCacheConfig(blockSize: stats.kvBlockSize, blockCount: stats.kvBlocksTotal, cacheDtype: engine.kvLayout.elementType.rawValue)
        logger.info("model \(settings.model) ready in \(String(format: "%.1f", CommandSupport.seconds(since: started)))s: KV cache \(stats.kvBlocksTotal) blocks of \(stats.kvBlockSize) entries (\(engine.kvLayout.elementType)), max_model_len \(maxModelLength)")
    }

    private func installSignalHandlers() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in drainAndExit(signalName: sig == SIGTERM ? "SIGTERM" : "SIGINT") }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to the timeout), then exits 0.
    private func drainAndExit(signalName: String) {
        logger.info("\(signalName): draining (up to \(settings.shutdownTimeoutSeconds)s for in-flight requests)")
        handler.beginDraining()
        http.stopAccepting()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(settings.shutdownTimeoutSeconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            let stats = engine?.stats()
            if (stats?.runningCount ?? 0) + (stats?.waitingCount ?? 0) == 0 { break }
            usleep(20_000)
        }
        _ = http.waitForConnectionsToClose(timeout: .milliseconds(500))
        http.shutdown()
        engine?.shutdown()
        logger.info("stopped")
        exit(0)
    }
}
