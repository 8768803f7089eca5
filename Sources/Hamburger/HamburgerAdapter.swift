import Foundation
import Llama

/// A loaded HAMburger adapter (training/FORMAT.md): the compositional embedder, the micro-step
/// decoder, the stop head and the merge-only LoRA deltas, all in Float, checked against the base model
/// they graft onto. Immutable after load; `HamburgerRuntime` runs it next to the base.
public final class HamburgerAdapter: Sendable {
    /// The one format version this engine reads.
    public static let formatVersion = 1

    public let configurationPath: String
    public let configuration: AdapterConfiguration
    public let embedder: CompositionalEmbedder
    public let microDecoder: MicroDecoder
    public let stopHead: StopHead
    /// nil when the adapter has no deltas (rank 0 or no layers).
    public let mergeLoRA: LoRAAdapter?

    /// K.
    public var maxSteps: Int { configuration.maxSteps }
    /// Base layers whose outputs are features 1..F-1 (feature F is the final normed state).
    public var featureLayers: [Int] { configuration.featureLayers }
    public var featureCount: Int { configuration.featureLayers.count + 1 }
    /// The confidence a request gets when it names none.
    public var defaultConfidence: Double { configuration.defaultConfidence }
    /// The micro-token probability floor a request gets when it names none (0: off).
    public var defaultMinProbability: Double { configuration.defaultMinProbability ?? 0 }

    /// Loads the adapter whose JSON is at `path` (the safetensors file named in it sits beside it) for
    /// the base model file at `baseModelPath` with `hyperparameters`. Refuses an unknown format version,
    /// a base whose sha256 differs from the recorded one (`checkBaseSHA256`), base shapes that differ,
    /// and missing or misshapen tensors.
    public init(path: String, baseModelPath: String, hyperparameters hp: LlamaHyperparameters,
                checkBaseSHA256: Bool = true) throws(HamburgerError) {
        configurationPath = path
        let json: Data
        do { json = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadableFile(path: path, reason: error.localizedDescription)
        }
        let config = try AdapterConfiguration.decode(json, path: path)
        configuration = config
        try Self.checkShapes(config, hp, path: path)
        if checkBaseSHA256 {
            let actual = try FileDigest.sha256(path: baseModelPath)
            guard actual == config.baseModel.sha256.lowercased() else {
                throw .baseModelMismatch(adapterPath: path, expectedSHA256: config.baseModel.sha256, basePath: baseModelPath, actualSHA256: actual)
            }
        }
        let weightsPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(config.weightsFile).path
        let file = try SafetensorsFile(path: weightsPath)
        try Self.checkTensorList(config, file)

        let d = hp.hiddenSize, qW = hp.headCount * hp.headDim, kvW = hp.kvEntryWidth, ff = hp.intermediateSize
        let K = config.maxSteps
        embedder = CompositionalEmbedder(
            width: d, headCount: config.embedder.heads, headDim: config.embedder.headDim, maxSteps: K,
            positions: try file.floats("embedder.pos", shape: [K, d / 2]),
            wq: try file.linearWeight("embedder.w_q", outputWidth: d, inputWidth: d),
            wk: try file.linearWeight("embedder.w_k", outputWidth: d, inputWidth: d + d / 2),
            wv: try file.linearWeight("embedder.w_v", outputWidth: d, inputWidth: d + d / 2),
            wout: try file.linearWeight("embedder.w_out", outputWidth: d, inputWidth: d))
        var layers: [LlamaLayerWeights] = []
        for i in 0..<config.microLayers {
            let p = "micro.blk.\(i)."
            func matrix(_ name: String, out: Int, in inner: Int) throws(HamburgerError) -> LinearWeight {
                try file.linearWeight(p + name, outputWidth: out, inputWidth: inner)
            }
            layers.append(LlamaLayerWeights(
                attentionNorm: try file.floats(p + "attn_norm.weight", shape: [d]),
                query: try matrix("attn_q.weight", out: qW, in: d),
                key: try matrix("attn_k.weight", out: kvW, in: d),
                value: try matrix("attn_v.weight", out: kvW, in: d),
                output: try matrix("attn_output.weight", out: d, in: qW),
                ffnNorm: try file.floats(p + "ffn_norm.weight", shape: [d]),
                gate: try matrix("ffn_gate.weight", out: ff, in: d),
                up: try matrix("ffn_up.weight", out: ff, in: d),
                down: try matrix("ffn_down.weight", out: d, in: ff)))
        }
        microDecoder = MicroDecoder(
            layers: layers, outputNorm: try file.floats("micro.output_norm.weight", shape: [d]), shape: DecoderLayerShape(hp),
            ropeTheta: hp.ropeTheta)
        stopHead = StopHead(
            width: d,
            fc1: try file.linearWeight("stop.fc1.weight", outputWidth: d, inputWidth: d), b1: try file.floats("stop.fc1.bias", shape: [d]),
            fc2: try file.linearWeight("stop.fc2.weight", outputWidth: d, inputWidth: d), b2: try file.floats("stop.fc2.bias", shape: [d]),
            fc3: try file.linearWeight("stop.fc3.weight", outputWidth: 1, inputWidth: d), b3: try file.floats("stop.fc3.bias", shape: [1])[0])

        let rank = config.lora.rank
        if rank > 0, !config.lora.layers.isEmpty, !config.lora.targets.isEmpty {
            var deltas = [[LoRAAdapter.Target: LoRAAdapter.Delta]](repeating: [:], count: hp.layerCount)
            for layer in config.lora.layers {
                for name in config.lora.targets {
                    guard let target = LoRAAdapter.Target(rawValue: name) else {
                        throw .invalidConfiguration(path: path, reason: "unknown LoRA target '\(name)'")
                    }
                    let (inner, out) = Self.loraShape(target, hp)
                    let p = "lora.blk.\(layer).\(name)."
                    deltas[layer][target] = LoRAAdapter.Delta(
                        a: try file.linearWeight(p + "a", outputWidth: rank, inputWidth: inner),
                        b: try file.linearWeight(p + "b", outputWidth: out, inputWidth: rank))
                }
            }
            mergeLoRA = LoRAAdapter(scaling: Float(config.lora.scaling), layers: deltas)
        } else {
            mergeLoRA = nil
        }
    }

    /// (input width, output width) of a LoRA target.
    static func loraShape(_ target: LoRAAdapter.Target, _ hp: LlamaHyperparameters) -> (Int, Int) {
        let d = hp.hiddenSize, qW = hp.headCount * hp.headDim, kvW = hp.kvEntryWidth, ff = hp.intermediateSize
        switch target {
        case .attnQuery: return (d, qW)
        case .attnKey, .attnValue: return (d, kvW)
        case .attnOutput: return (qW, d)
        case .ffnGate, .ffnUp: return (d, ff)
        case .ffnDown: return (ff, d)
        }
    }

    /// The recorded base shapes and the adapter's own sizes against the loaded model.
    static func checkShapes(_ c: AdapterConfiguration, _ hp: LlamaHyperparameters, path: String) throws(HamburgerError) {
        let b = c.baseModel
        let recorded = [b.hiddenSize, b.layers, b.heads, b.kvHeads, b.headDim, b.intermediateSize, b.vocabSize]
        let actual = [hp.hiddenSize, hp.layerCount, hp.headCount, hp.kvHeadCount, hp.headDim, hp.intermediateSize, hp.vocabSize]
        guard recorded == actual else {
            throw .baseShapeMismatch(path: path, reason: "the adapter records (hidden, layers, heads, kv_heads, head_dim, ffn, vocab) = \(recorded), the model has \(actual)")
        }
        func bad(_ reason: String) -> HamburgerError { .invalidConfiguration(path: path, reason: reason) }
        guard c.ropeLayout == "gguf" else { throw bad("rope_layout is '\(c.ropeLayout)'; only 'gguf' is supported") }
        guard (1...64).contains(c.maxSteps) else { throw bad("max_steps \(c.maxSteps) is not in 1...64") }
        guard c.numFeatures == c.featureLayers.count + 1 else { throw bad("num_features \(c.numFeatures) != feature_layers + 1") }
        guard c.featureLayers.allSatisfy({ (0..<hp.layerCount).contains($0) }) else {
            throw bad("feature_layers \(c.featureLayers) are not all base layers 0..<\(hp.layerCount)")
        }
        guard c.microLayers >= 0, c.microLayers <= 64 else { throw bad("micro_layers \(c.microLayers) is out of range") }
        guard c.embedder.headDim > 0, c.embedder.heads * c.embedder.headDim == hp.hiddenSize, c.embedder.positionDim == hp.hiddenSize / 2 else {
            throw bad("embedder heads \(c.embedder.heads) x head_dim \(c.embedder.headDim) (position_dim \(c.embedder.positionDim)) does not fit hidden size \(hp.hiddenSize)")
        }
        guard c.lora.rank >= 0, c.lora.layers.allSatisfy({ (0..<hp.layerCount).contains($0) }) else {
            throw bad("LoRA rank \(c.lora.rank) or layers \(c.lora.layers) out of range")
        }
        guard c.defaultConfidence > 0, c.defaultConfidence <= 1 else { throw bad("default_confidence \(c.defaultConfidence) is not in (0, 1]") }
        if let floor = c.defaultMinProbability, !(floor >= 0 && floor < 1) {
            throw bad("default_min_probability \(floor) is not in [0, 1)")
        }
    }

    /// The JSON's tensor list and the file's tensors name the same tensors with the same shapes.
    static func checkTensorList(_ c: AdapterConfiguration, _ file: SafetensorsFile) throws(HamburgerError) {
        for entry in c.tensors {
            guard let info = file.tensors[entry.name] else { throw .missingTensor(path: file.path, name: entry.name) }
            guard info.shape == entry.shape else { throw .tensorShape(path: file.path, name: entry.name, expected: entry.shape, found: info.shape) }
        }
        let listed = Set(c.tensors.map(\.name))
        if let extra = file.tensors.keys.sorted().first(where: { !listed.contains($0) }) {
            throw .invalidSafetensors(path: file.path, reason: "tensor '\(extra)' is not in the adapter config's tensor list")
        }
    }
}
