import XCTest
import TestSupport
import KVCache
import Kernels
@testable import Llama

/// `LlamaModel` on the real SmolLM2 GGUF against Hugging Face `transformers` run on the same file
/// (fixtures from scripts/make_fixtures.py): last-position logits and greedy continuations.
final class LlamaModelTests: XCTestCase {
    struct LogitsFixture: Decodable {
        struct Case: Decodable { let name: String; let prompt_ids: [Int32]; let top5_ids: [Int]; let logits: [Float] }
        let cases: [Case]
    }
    struct GreedyFixture: Decodable {
        struct Case: Decodable { let prompt_ids: [Int32]; let generated_ids: [Int32]; let finish: String; let text: String }
        let max_new_tokens: Int
        let eos_id: Int32
        let cases: [Case]
    }

    static let model: LlamaModel? = try? LlamaModel(path: TestPaths.modelPath, precision: .native)

    private func loadModel() throws -> LlamaModel {
        try XCTUnwrap(Self.model, "the model did not load from \(TestPaths.modelPath); run 'make setup'")
    }

    /// Runs `prompt` as one prefill slice in fresh pages and returns the last position's logits.
    private func prefillLogits(_ model: LlamaModel, _ prompt: [Int32], pages: KVPages, table: [Int32]) -> [Float] {
        model.forward(ForwardBatch(
            inputs: prompt.map { .token($0) }, positions: (0..<prompt.count).map(Int32.init),
            slices: [.init(blockTable: table, cachedEntryCount: 0, rowStart: 0, rowCount: prompt.count, wantsOutput: true)]
        ), pages: pages).logits
    }

    func testLastPositionLogitsMatchTransformers() throws {
        let model = try loadModel()
        let fixture = try TestPaths.loadFixture(LogitsFixture.self, "logits.json")
        XCTAssertEqual(fixture.cases.count, 4)
        for c in fixture.cases {
            let blocks = (c.prompt_ids.count + 15) / 16
            let pages = KVPages(layout: model.kvLayout(blockSize: 16, blockCount: blocks + 3))
            // Scattered, out-of-order blocks: attention must read through the table.
            let table = (0..<blocks).map { Int32(blocks + 2 - $0) }
            let logits = prefillLogits(model, c.prompt_ids, pages: pages, table: table)
            XCTAssertEqual(logits.count, c.logits.count)
            var maxDiff: Float = 0
            for i in 0..<logits.count { maxDiff = max(maxDiff, abs(logits[i] - c.logits[i])) }
            // Float32 in a different summation order than PyTorch: 2e-3 absolute on logits of size ~30.
            XCTAssertLessThan(maxDiff, 2e-3, c.name)
            let top5 = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5)
            XCTAssertEqual(Array(top5), c.top5_ids, c.name)
        }
    }

    func testGreedyContinuationsMatchTransformers() throws {
        let model = try loadModel()
        let fixture = try TestPaths.loadFixture(GreedyFixture.self, "greedy.json")
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 5)
        let vocab = model.hyperparameters.vocabSize
        for c in fixture.cases {
            let total = c.prompt_ids.count + fixture.max_new_tokens
            let blocks = (total + 15) / 16
            let pages = KVPages(layout: model.kvLayout(blockSize: 16, blockCount: blocks))
            let table = (0..<blocks).map(Int32.init)
            var logits = prefillLogits(model, c.prompt_ids, pages: pages, table: table)
            var generated: [Int32] = []
            var finish = "length"
            for step in 0..<fixture.max_new_tokens {
                let token = Int32(logits.withUnsafeBufferPointer { argmax(UnsafeBufferPointer(rebasing: $0[..<vocab])) })
                if token == fixture.eos_id { finish = "eos"; break }
                generated.append(token)
                if step == fixture.max_new_tokens - 1 { break }
                let position = c.prompt_ids.count + step
                logits = model.forward(ForwardBatch(
                    inputs: [.token(token)], positions: [Int32(position)],
                    slices: [.init(blockTable: table, cachedEntryCount: position, rowStart: 0, rowCount: 1, wantsOutput: true)]
                ), pages: pages).logits
            }
            XCTAssertEqual(generated, c.generated_ids, c.text)
            XCTAssertEqual(finish, c.finish, c.text)
        }
    }

    func testBatchedRowsEqualSeparateRuns() throws {
        // Two sequences in one forward (one prefill chunk, one decode row) give the same logits as alone.
        let model = try loadModel()
        let a: [Int32] = [504, 3575, 282, 4649, 314]
        let b: [Int32] = [1, 4093, 198, 6004, 2, 198, 1, 520]
        let pagesAlone = KVPages(layout: model.kvLayout(blockSize: 4, blockCount: 8))
        let aloneA = prefillLogits(model, a, pages: pagesAlone, table: [0, 1])
        let aloneB = prefillLogits(model, b, pages: pagesAlone, table: [2, 3])
        let pages = KVPages(layout: model.kvLayout(blockSize: 4, blockCount: 8))
        let out = model.forward(ForwardBatch(
            inputs: (a + b).map { .token($0) }, positions: (0..<a.count).map(Int32.init) + (0..<b.count).map(Int32.init),
            slices: [.init(blockTable: [5, 1], cachedEntryCount: 0, rowStart: 0, rowCount: a.count, wantsOutput: true),
                     .init(blockTable: [7, 0], cachedEntryCount: 0, rowStart: a.count, rowCount: b.count, wantsOutput: true)]
        ), pages: pages)
        let vocab = model.hyperparameters.vocabSize
        XCTAssertEqual(out.rowCount, 2)
        for i in stride(from: 0, to: vocab, by: 97) {
            XCTAssertEqual(out.logits[i], aloneA[i], accuracy: 1e-3)
            XCTAssertEqual(out.logits[vocab + i], aloneB[i], accuracy: 1e-3)
        }
    }
}
