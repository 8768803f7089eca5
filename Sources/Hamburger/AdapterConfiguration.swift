import Foundation

/// The adapter's JSON file (training/FORMAT.md, version 1): base model identity and shapes, K, F, the
/// feature layers, the micro decoder's depth, the embedder's heads, the LoRA rank/targets/layers, the
/// default confidence and the tensor list. Keys are the file's snake_case names.
public struct AdapterConfiguration: Decodable, Sendable, Equatable {
    /// What the adapter was trained on.
    public struct BaseModel: Decodable, Sendable, Equatable {
        public var file: String
        public var sha256: String
        public var hiddenSize: Int
        public var layers: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDim: Int
        public var intermediateSize: Int
        public var vocabSize: Int
    }

    /// The compositional embedder's attention shape.
    public struct Embedder: Decodable, Sendable, Equatable {
        public var heads: Int
        public var headDim: Int
        public var positionDim: Int
    }

    /// Merge-only LoRA: rank, alpha / rank scaling, which projections of which base layers.
    public struct LoRA: Decodable, Sendable, Equatable {
        public var rank: Int
        public var alpha: Double
        public var scaling: Double
        public var targets: [String]
        public var layers: [Int]
    }

    /// One entry of the tensor list.
    public struct Tensor: Decodable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var dtype: String
    }

    public var format: String
    public var formatVersion: Int
    public var weightsFile: String
    public var baseModel: BaseModel
    public var ropeLayout: String
    /// K: most tokens per macro step.
    public var maxSteps: Int
    /// F = featureLayers.count + 1.
    public var numFeatures: Int
    public var featureLayers: [Int]
    /// L_mu.
    public var microLayers: Int
    public var embedder: Embedder
    public var lora: LoRA
    public var defaultConfidence: Double
    /// The default micro-token probability floor (`default_min_probability`; absent in older adapters: 0, off).
    public var defaultMinProbability: Double?
    public var eosTokenIds: [Int32]?
    public var dtype: String
    public var tensors: [Tensor]

    /// Just the two keys read before anything else, so an unknown version is refused as such.
    struct Version: Decodable {
        var format: String?
        var formatVersion: Int?
    }

    /// Decodes `data` read from `path`, refusing an unknown format or version first.
    public static func decode(_ data: Data, path: String) throws(HamburgerError) -> AdapterConfiguration {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let version: Version
        do { version = try decoder.decode(Version.self, from: data) } catch {
            throw .invalidConfiguration(path: path, reason: "not a JSON object (\(error))")
        }
        guard version.format == "hamburger-adapter", version.formatVersion == HamburgerAdapter.formatVersion else {
            throw .unsupportedFormat(path: path, format: version.format ?? "none", version: version.formatVersion ?? 0)
        }
        do { return try decoder.decode(AdapterConfiguration.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw .invalidConfiguration(path: path, reason: "key '\(key.stringValue)' is missing")
        } catch {
            throw .invalidConfiguration(path: path, reason: "\(error)")
        }
    }
}
