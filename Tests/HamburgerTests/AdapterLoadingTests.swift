import Foundation
import Hamburger
import Llama
import Testing
import TestSupport

/// The adapter loader: safetensors decoding, and clean refusals of bad files (unknown format version,
/// another base model, missing / misshapen tensors, truncated weights), each naming what to do.
struct AdapterLoadingTests {
    /// SmolLM2-135M's shapes (what the adapter JSON records).
    static let hyperparameters = LlamaHyperparameters(
        vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9, kvHeadCount: 3,
        contextLength: 8192, ropeTheta: 100000, rmsEpsilon: 1e-5, eosTokenId: 2)

    /// A safetensors file of `tensors` (name, dtype, shape, raw little-endian bytes).
    static func safetensors(_ tensors: [(String, String, [Int], [UInt8])], metadata: [String: String] = [:]) -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var data: [UInt8] = []
        for (name, dtype, shape, bytes) in tensors {
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [data.count, data.count + bytes.count]]
            data += bytes
        }
        let json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(contentsOf: data)
        return file
    }

    static func f32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } }

    /// An adapter JSON with SmolLM2's shapes, listing `tensors`, with `overrides` applied.
    static func configuration(tensors: [(String, [Int])], overrides: [String: Any] = [:]) -> Data {
        var json: [String: Any] = [
            "format": "hamburger-adapter", "format_version": 1, "weights_file": "adapter.safetensors",
            "base_model": ["file": "SmolLM2-135M-Instruct.Q4_1.gguf",
                           "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                           "architecture": "llama", "hidden_size": 576, "layers": 30, "heads": 9, "kv_heads": 3, "head_dim": 64,
                           "intermediate_size": 1536, "vocab_size": 49152, "rms_norm_eps": 1e-5, "rope_theta": 100000.0],
            "rope_layout": "gguf", "max_steps": 4, "num_features": 4, "feature_layers": [7, 15, 23], "micro_layers": 2,
            "embedder": ["heads": 9, "head_dim": 64, "position_dim": 288],
            "lora": ["rank": 16, "alpha": 32.0, "scaling": 2.0, "targets": ["attn_q"], "layers": [0]],
            "default_confidence": 0.9, "eos_token_ids": [2], "dtype": "F32",
            "tensors": tensors.map { ["name": $0.0, "shape": $0.1, "dtype": "F32"] },
        ]
        for (key, value) in overrides { json[key] = value }
        return try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }

    /// Writes the JSON and weights into a fresh directory; returns the JSON's path.
    static func write(configuration: Data, weights: Data) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hamburger-adapter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try weights.write(to: directory.appendingPathComponent("adapter.safetensors"))
        let path = directory.appendingPathComponent("adapter.json")
        try configuration.write(to: path)
        return path.path
    }

    static func load(_ path: String, checkSHA: Bool = false) throws(HamburgerError) -> HamburgerAdapter {
        try HamburgerAdapter(path: path, baseModelPath: TestPaths.modelPath, hyperparameters: hyperparameters, checkBaseSHA256: checkSHA)
    }

    @Test func safetensorsDecodesF32F16AndBF16() throws {
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x35] // 1, -2, 0.3125
        let bf16: [UInt8] = [0x80, 0x3F, 0x40, 0xC0] // 1, -3
        let file = try SafetensorsFile(path: "t", bytes: Self.safetensors([
            ("a", "F32", [2], Self.f32Bytes([1.5, -0.25])), ("b", "F16", [3], f16), ("c", "BF16", [1, 2], bf16),
        ], metadata: ["format": "hamburger-adapter"]))
        #expect(try file.floats("a", shape: [2]) == [1.5, -0.25])
        #expect(try file.floats("b", shape: [3]) == [1, -2, 0.3125])
        #expect(try file.floats("c", shape: [1, 2]) == [1, -3])
        #expect(file.metadata["format"] == "hamburger-adapter")
        #expect(throws: HamburgerError.tensorShape(path: "t", name: "a", expected: [1, 2], found: [2])) { try file.floats("a", shape: [1, 2]) }
        #expect(throws: HamburgerError.missingTensor(path: "t", name: "z")) { try file.floats("z", shape: [1]) }
    }

    @Test func truncatedSafetensorsAreRefused() throws {
        let whole = Self.safetensors([("a", "F32", [4], Self.f32Bytes([1, 2, 3, 4]))])
        for cut in [4, 20, whole.count - 1] {
            do {
                _ = try SafetensorsFile(path: "t", bytes: whole.prefix(cut))
                Issue.record("a file cut to \(cut) of \(whole.count) bytes was accepted")
            } catch let error {
                guard case .invalidSafetensors = error else { Issue.record("unexpected \(error)"); continue }
                #expect(error.description.contains("re-export"))
            }
        }
    }

    @Test func unknownFormatVersionIsRefused() throws {
        let path = try Self.write(configuration: Self.configuration(tensors: [], overrides: ["format_version": 2]), weights: Self.safetensors([]))
        #expect(throws: HamburgerError.unsupportedFormat(path: path, format: "hamburger-adapter", version: 2)) { try Self.load(path) }
        let other = try Self.write(configuration: Data(#"{"format": "lora", "format_version": 1}"#.utf8), weights: Self.safetensors([]))
        #expect(throws: HamburgerError.unsupportedFormat(path: other, format: "lora", version: 1)) { try Self.load(other) }
    }

    @Test func anotherBaseModelIsRefused() throws {
        var base = try #require(try JSONSerialization.jsonObject(with: Self.configuration(tensors: [])) as? [String: Any])["base_model"] as! [String: Any]
        base["sha256"] = String(repeating: "0", count: 64)
        let path = try Self.write(configuration: Self.configuration(tensors: [], overrides: ["base_model": base]), weights: Self.safetensors([]))
        do {
            _ = try Self.load(path, checkSHA: true)
            Issue.record("an adapter for another base model was accepted")
        } catch let error {
            #expect(error == .baseModelMismatch(adapterPath: path, expectedSHA256: String(repeating: "0", count: 64), basePath: TestPaths.modelPath,
                                                actualSHA256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"))
            #expect(error.description.contains("use the base model file the adapter was trained on"))
        }
        base["hidden_size"] = 512
        let shape = try Self.write(configuration: Self.configuration(tensors: [], overrides: ["base_model": base]), weights: Self.safetensors([]))
        #expect { try Self.load(shape) } throws: { ($0 as? HamburgerError).map { if case .baseShapeMismatch = $0 { true } else { false } } ?? false }
    }

    @Test func missingAndMisshapenTensorsAreRefused() throws {
        let pos = ("embedder.pos", "F32", [4, 288], Self.f32Bytes(Array(repeating: 0.5, count: 4 * 288)))
        let missing = try Self.write(configuration: Self.configuration(tensors: [("embedder.pos", [4, 288])]), weights: Self.safetensors([pos]))
        #expect(throws: HamburgerError.missingTensor(path: URL(fileURLWithPath: missing).deletingLastPathComponent().appendingPathComponent("adapter.safetensors").path,
                                                     name: "embedder.w_q")) { try Self.load(missing) }

        let small = ("embedder.pos", "F32", [4, 200], Self.f32Bytes(Array(repeating: 0.5, count: 4 * 200)))
        let misshapen = try Self.write(configuration: Self.configuration(tensors: [("embedder.pos", [4, 200])]), weights: Self.safetensors([small]))
        #expect { try Self.load(misshapen) } throws: { error in
            guard case let .tensorShape(_, name, expected, found)? = error as? HamburgerError else { return false }
            return name == "embedder.pos" && expected == [4, 288] && found == [4, 200]
        }

        let unlisted = try Self.write(configuration: Self.configuration(tensors: [("embedder.pos", [4, 288]), ("embedder.w_q", [576, 576])]),
                                      weights: Self.safetensors([pos]))
        #expect { try Self.load(unlisted) } throws: { error in
            if case .missingTensor(_, "embedder.w_q")? = error as? HamburgerError { return true }
            return false
        }
    }
}
