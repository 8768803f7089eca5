import Engine
import Foundation
import Hamburger
import Testing
import TestSupport

/// The Swift engine against the Python reference decoder, same adapter, greedy: identical token ids
/// and group sizes for every prompt and confidence all in one batch, and for the first prompts alone
/// (each alone costs a full debug-build generation); KV entries written = prompt + macro steps - 1
/// (the last group is never fed back), as the reference counts them.
@Suite(.serialized) struct HamburgerParityTests {
    // The committed trained adapter and its fixture; the untrained fixture is for development only (its
    // adapter is not committed), so CI would skip it.
    static let fixtures = [HamburgerTestbed.trainedFixtureName]

    func load(_ name: String) throws -> (HamburgerFixture, HamburgerAdapter)? {
        guard let fixture = HamburgerTestbed.fixture(name), let path = HamburgerTestbed.adapterPath(forFixture: name),
              FileManager.default.fileExists(atPath: path) else {
            // The untrained adapter is not committed (28 MB); the trained one is, with its fixture.
            let fixtureExists = FileManager.default.fileExists(atPath: TestPaths.fixture(name).path)
            try #require(name == HamburgerTestbed.untrainedFixtureName || !fixtureExists, "the adapter of fixture \(name) is missing")
            return nil
        }
        return (fixture, try HamburgerTestbed.adapter(path: path))
    }

    /// Cases run one at a time (every confidence of the first prompts).
    static let aloneCaseCount = 4

    @Test(arguments: fixtures)
    func eachPromptAlone(_ name: String) throws {
        guard let (fullFixture, runtime) = try load(name) else { return }
        var fixture = fullFixture
        fixture.cases = Array(fullFixture.cases.prefix(Self.aloneCaseCount))
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        let eos = fixture.eos_token_ids.first ?? 2
        for (index, testCase) in fixture.cases.enumerated() {
            let result = try engine.generate([HamburgerTestbed.request("c\(index)", testCase, maxTokens: fixture.max_new_tokens)])[0]
            #expect(HamburgerTestbed.tokensWithStop(result, stopToken: eos) == testCase.tokens, "case \(index) (confidence \(testCase.confidence), min probability \(testCase.min_probability ?? 0)) tokens")
            #expect(result.groupSizes == testCase.group_sizes, "case \(index) (confidence \(testCase.confidence), min probability \(testCase.min_probability ?? 0)) group sizes")
        }
        let stats = engine.stats()
        let expectedRows = fixture.cases.reduce(0) { $0 + $1.kv_entries }
        // Rows run + prompt entries found in the prefix cache (the cases repeat prompts) = entries written.
        #expect(stats.prefillRowsTotal + stats.decodeRowsTotal + stats.prefixCacheHitsTotal == expectedRows,
                "KV entries written = prompt + macro steps - 1 per case")
        #expect(stats.hamburgerMacroStepsTotal == fixture.cases.reduce(0) { $0 + $1.group_sizes.count })
        #expect(stats.hamburgerTokensTotal == fixture.cases.reduce(0) { $0 + $1.tokens.count })
    }

    /// A KV cache too small for every sequence at once: preempted HAMburger sequences are recomputed
    /// through their merged groups (LoRA rows included) and still give the reference output.
    @Test(arguments: fixtures)
    func preemptedSequencesRecomputeTheirMergedGroups(_ name: String) throws {
        guard let (fixture, runtime) = try load(name) else { return }
        // The cases that write the most KV entries (short answers that stop early would never fill a cache).
        let cases = Array(fixture.cases.sorted { $0.kv_entries > $1.kv_entries }.prefix(Self.aloneCaseCount))
        let longest = (cases.map(\.kv_entries).max() ?? 0) + 1
        // Blocks of 4 entries: room for the longest sequence alone and a little more, so that two
        // running sequences outgrow the cache and the younger one is preempted.
        let engine = try HamburgerTestbed.engine(runtime, kvBlocks: (longest + 3) / 4 + 2, blockSize: 4)
        defer { engine.shutdown() }
        let eos = fixture.eos_token_ids.first ?? 2
        let results = try engine.generate(cases.enumerated().map {
            HamburgerTestbed.request("p\($0.offset)", $0.element, maxTokens: fixture.max_new_tokens)
        })
        #expect(engine.stats().preemptionsTotal > 0, "the cache was meant to force preemptions")
        for (index, (testCase, result)) in zip(cases, results).enumerated() {
            #expect(HamburgerTestbed.tokensWithStop(result, stopToken: eos) == testCase.tokens, "case \(index) tokens after preemption")
            #expect(result.groupSizes == testCase.group_sizes, "case \(index) group sizes after preemption")
        }
    }

    @Test(arguments: fixtures)
    func allPromptsInOneBatch(_ name: String) throws {
        guard let (fixture, runtime) = try load(name) else { return }
        let engine = try HamburgerTestbed.engine(runtime)
        defer { engine.shutdown() }
        let eos = fixture.eos_token_ids.first ?? 2
        let requests = fixture.cases.enumerated().map { HamburgerTestbed.request("b\($0.offset)", $0.element, maxTokens: fixture.max_new_tokens) }
        let results = try engine.generate(requests)
        for (index, (testCase, result)) in zip(fixture.cases, results).enumerated() {
            #expect(HamburgerTestbed.tokensWithStop(result, stopToken: eos) == testCase.tokens, "case \(index) tokens in a batch")
            #expect(result.groupSizes == testCase.group_sizes, "case \(index) group sizes in a batch")
        }
    }
}

