import Foundation
import XCTest
import TestSupport
import GGUF

/// `GGUFFile` on the real SmolLM2 model against facts read by llama.cpp's Python `gguf` package
/// (`Tests/Fixtures/gguf-reference.json`, written by scripts/make_gguf_fixture.py).
final class GGUFModelFileTests: XCTestCase {
    struct Reference: Decodable {
        struct Tensor: Decodable { let name: String; let dimensions: [Int]; let type: String }
        struct Sample: Decodable { let type: String; let first: [Float]; let last: [Float]; let sum: Double; let count: Int }
        let version: UInt32
        let metadata_count: Int
        let tensor_count: Int
        let token_count: Int
        let tokens_sample: [String: String]
        let tensors: [Tensor]
        let samples: [String: Sample]
    }

    func testDirectoryMetadataAndValuesMatchTheReference() throws {
        let reference = try TestPaths.loadFixture(Reference.self, "gguf-reference.json")
        let file = try GGUFFile(path: TestPaths.modelPath)
        XCTAssertEqual(file.version, reference.version)
        XCTAssertEqual(file.metadata.count, reference.metadata_count)
        XCTAssertEqual(file.tensors.count, reference.tensor_count)
        XCTAssertEqual(file.architecture, "llama")
        XCTAssertEqual(try file.requiredInt("llama.block_count"), 30)
        XCTAssertEqual(try file.requiredInt("llama.embedding_length"), 576)
        XCTAssertEqual(try file.requiredDouble("llama.rope.freq_base"), 100000)
        XCTAssertEqual(file.metadata["tokenizer.ggml.pre"]?.stringValue, "smollm")
        let tokens = try XCTUnwrap(file.metadata["tokenizer.ggml.tokens"]?.stringArray)
        XCTAssertEqual(tokens.count, reference.token_count)
        for (index, token) in reference.tokens_sample { XCTAssertEqual(tokens[Int(index)!], token) }
        for t in reference.tensors {
            let info = try XCTUnwrap(file.tensor(named: t.name))
            XCTAssertEqual(info.dimensions, t.dimensions, t.name)
            XCTAssertEqual(info.type.description, t.type, t.name)
        }
        for (name, sample) in reference.samples {
            let values = try file.dequantize(named: name)
            XCTAssertEqual(values.count, sample.count, name)
            XCTAssertEqual(Array(values.prefix(sample.first.count)), sample.first, name)
            XCTAssertEqual(Array(values.suffix(sample.last.count)), sample.last, name)
            let sum = values.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, sample.sum, accuracy: 1e-6 * max(1, abs(sample.sum)) + 1e-3, name)
        }
    }

    func testTruncatedModelCopiesThrow() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.modelPath), options: .alwaysMapped)
        let file = try GGUFFile(path: TestPaths.modelPath)
        let dataEnd = file.tensors.map { $0.fileOffset + $0.byteCount }.max()!
        // Cuts inside the header/metadata/directory, and just before the end of the tensor data.
        for length in [10, 100, 1_000, 50_000, 500_000, 1_500_000, dataEnd - 1] {
            XCTAssertThrowsError(try GGUFFile(bytes: [UInt8](data.prefix(length))), "length \(length)") { error in
                XCTAssertTrue(error is GGUFError)
            }
        }
    }
}
