import Foundation
import Hamburger
import KVCache
import Kernels
import Llama
@testable import Engine

/// A deterministic stand-in for the Llama model: no weights, but it really goes through the paged KV
/// cache. Each row writes (token, position) into its KV slot through the slice's block table; an output
/// row reads back every slot 0 ... its own through the table, hashes the (token, position) history and
/// turns the hash into pseudo-random logits. So the next token depends on the whole history as stored
/// in the pages: a wrong block table, a block shared by two sequences, or a wrong position changes the
/// output. `referenceLogits(history:)` computes the same logits straight from a history, with no cache.
///
/// Two faults can be injected, to test the engine's failure path: `poisonsRow(history)` puts one NaN in
/// that output row's logits (a model gone bad for one sequence), `failsPass(batch)` makes `forward` throw
/// before it writes anything (a pass that fails as a whole).
final class FakeForwardModel: ForwardModel {
    /// History of one output row: every (token, position) pair stored in the sequence's KV slots.
    typealias History = [(token: Int32, position: Int32)]
    /// What `forward` throws when `failsPass` says so.
    struct InjectedFault: Error, CustomStringConvertible {
        var description: String { "injected fault" }
    }

    let vocabSize: Int
    let kvLayerCount = 2
    let kvEntryWidth = 4
    let kvHeadDim = 4
    let contextLength: Int
    let endOfSequenceTokenIds: [Int32]
    /// Records what the engine did, for assertions (thread-safe; the engine thread writes it).
    let recorder: ForwardRecorder?
    let poisonsRow: (@Sendable (History) -> Bool)?
    let failsPass: (@Sendable (ForwardBatch) -> Bool)?
    /// `HamburgerBase`'s members: the fake has no embeddings or LM head (the engine tests run no adapter).
    let hiddenSize = 4
    let pool = try! ThreadPool(threadCount: 1)
    func embed(token: Int32, into output: UnsafeMutablePointer<Float>) {
        output.update(repeating: Float(token), count: hiddenSize)
    }
    func lmHead(_ normed: [Float], rowCount: Int) -> [Float] {
        [Float](repeating: 0, count: rowCount * vocabSize)
    }

    init(vocabSize: Int = 64, contextLength: Int = 512, endOfSequenceTokenIds: [Int32] = [63], recorder: ForwardRecorder? = nil,
         poisonsRow: (@Sendable (History) -> Bool)? = nil, failsPass: (@Sendable (ForwardBatch) -> Bool)? = nil) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.endOfSequenceTokenIds = endOfSequenceTokenIds
        self.recorder = recorder
        self.poisonsRow = poisonsRow
        self.failsPass = failsPass
    }

    func forward(_ batch: ForwardBatch, pages: KVPages) throws -> ForwardOutput {
        precondition(pages.layout.elementType == .float32, "the fake model writes Float pages")
        if failsPass?(batch) == true { throw InjectedFault() }
        let blockSize = pages.layout.blockSize
        func keyBlock(_ layer: Int, _ block: Int) -> UnsafeMutablePointer<Float> {
            pages.keyBlock(layer: layer, block: block).assumingMemoryBound(to: Float.self)
        }
        recorder?.record(batch, blockSize: blockSize)
        var logits: [Float] = []
        var outputRows = 0
        for slice in batch.slices {
            for row in 0 ..< slice.rowCount {
                let slot = slice.cachedEntryCount + row
                let input = batch.inputs[slice.rowStart + row]
                let token: Float
                switch input {
                case let .token(id): token = Float(id)
                case let .embedding(vector): token = vector.first ?? -1
                }
                let block = Int(slice.blockTable[slot / blockSize])
                for layer in 0 ..< kvLayerCount {
                    let key = keyBlock(layer, block) + (slot % blockSize) * kvEntryWidth
                    key[0] = token
                    key[1] = Float(batch.positions[slice.rowStart + row])
                    key[2] = Float(layer)
                    pages.valueBlock(layer: layer, block: block).assumingMemoryBound(to: Float.self)[(slot % blockSize) * kvEntryWidth] = token + 0.5
                }
            }
            let last = slice.cachedEntryCount + slice.rowCount - 1
            let outputSlots = slice.outputsEveryRow ? Array(slice.cachedEntryCount ... last) : (slice.wantsOutput ? [last] : [])
            for outputSlot in outputSlots {
                var history: History = []
                for slot in 0 ... outputSlot {
                    let block = Int(slice.blockTable[slot / blockSize])
                    let key = keyBlock(kvLayerCount - 1, block) + (slot % blockSize) * kvEntryWidth
                    history.append((Int32(key[0]), Int32(key[1])))
                }
                var row = Self.referenceLogits(history: history, vocabSize: vocabSize)
                if poisonsRow?(history) == true { row[history.count % vocabSize] = .nan }
                logits += row
                outputRows += 1
            }
        }
        return ForwardOutput(rowCount: outputRows, logits: logits, finalNormed: [], features: [])
    }

    /// The logits the fake gives after `history` (every (token, position) pair of the sequence so far).
    static func referenceLogits(history: [(token: Int32, position: Int32)], vocabSize: Int) -> [Float] {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for (token, position) in history {
            hash = (hash ^ UInt64(UInt32(bitPattern: token))) &* 0x100_0000_01B3
            hash = (hash ^ UInt64(UInt32(bitPattern: position))) &* 0x100_0000_01B3
        }
        var mixer = SplitMix64(seed: hash)
        return (0 ..< vocabSize).map { _ in Float(mixer.next() >> 40) / Float(1 << 24) * 8 - 4 }
    }

    /// Greedy autoregressive output computed without the engine: the expected answer.
    static func referenceGreedy(prompt: [Int32], maxTokens: Int, vocabSize: Int = 64, stopTokens: Set<Int32> = [63]) -> [Int32] {
        var history = prompt.enumerated().map { (token: $0.element, position: Int32($0.offset)) }
        var output: [Int32] = []
        for _ in 0 ..< maxTokens {
            let logits = referenceLogits(history: history, vocabSize: vocabSize)
            let token = Int32(logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!)
            if stopTokens.contains(token) { break }
            output.append(token)
            history.append((token, Int32(history.count)))
        }
        return output
    }
}

/// What the engine fed the fake model, read by tests after a run.
final class ForwardRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _rowCounts: [Int] = []
    private var _violations: [String] = []

    func record(_ batch: ForwardBatch, blockSize: Int) {
        lock.lock()
        defer { lock.unlock() }
        _rowCounts.append(batch.rowCount)
        // Blocks a slice writes must be its own (blocks it only reads may be shared prefix-cache blocks).
        var owner: [Int32: Int] = [:]
        for (index, slice) in batch.slices.enumerated() {
            let first = slice.cachedEntryCount / blockSize
            let needed = BlockTable.blocksNeeded(forEntries: slice.cachedEntryCount + slice.rowCount, blockSize: blockSize)
            for block in slice.blockTable[first ..< max(first, needed)] {
                if let other = owner[block], other != index {
                    _violations.append("block \(block) is in slices \(other) and \(index)")
                }
                owner[block] = index
            }
        }
        if batch.positions.count != batch.inputs.count { _violations.append("positions and inputs differ in length") }
    }

    var rowCounts: [Int] { lock.lock(); defer { lock.unlock() }; return _rowCounts }
    var violations: [String] { lock.lock(); defer { lock.unlock() }; return _violations }
}
