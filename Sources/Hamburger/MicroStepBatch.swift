import Kernels
import Llama

/// The micro decoder's run state for one macro step of `sequenceCount` sequences: each sequence's tiny
/// KV cache (at most F + K - 1 Float entries per layer, thrown away with the batch) and how many
/// entries it holds. `step` runs the layers over the rows of the sequences still open, through the
/// base's decoder-layer function with each sequence's cache as one block.
///
/// Sequence j's first step pushes its F prefix feature rows (positions 0..F-1) and `E[t_1]` (position F)
/// together; later steps push one `E[t]` row each at the next position.
public final class MicroStepBatch {
    let decoder: MicroDecoder
    /// Splits the products and attention over its threads.
    let pool: ThreadPool
    /// `[sequenceCount][F][hidden]` prefix features.
    let prefix: [Float]
    let featureCount: Int
    public let sequenceCount: Int
    /// Entries per sequence's cache (its one block).
    let capacity: Int
    /// Per layer, `[sequenceCount][capacity][kvWidth]` keys and values.
    private let keys: [UnsafeMutablePointer<Float>]
    private let values: [UnsafeMutablePointer<Float>]
    /// Entries each sequence holds.
    public private(set) var entryCounts: [Int]
    private let scratch = DecoderScratch()

    init(decoder: MicroDecoder, prefix: [Float], featureCount: Int, sequenceCount: Int, maxSteps: Int, pool: ThreadPool) {
        self.decoder = decoder
        self.pool = pool
        self.prefix = prefix
        self.featureCount = featureCount
        self.sequenceCount = sequenceCount
        capacity = featureCount + max(maxSteps - 1, 1)
        let size = sequenceCount * capacity * decoder.kvWidth
        func pages() -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(size, 1))
            p.initialize(repeating: 0, count: max(size, 1))
            return p
        }
        keys = decoder.layers.map { _ in pages() }
        values = decoder.layers.map { _ in pages() }
        entryCounts = Array(repeating: 0, count: sequenceCount)
    }

    deinit {
        for p in keys + values { p.deallocate() }
    }

    /// Feeds `embeddings[i]` (`[hidden]`, i.e. `E[t]`) to sequence `sequences[i]`; returns the raw layer
    /// output `h` `[sequences.count][hidden]` at each one's newest row (not normed).
    public func step(sequences: [Int], embeddings: [Float]) -> [Float] {
        let d = decoder.hiddenSize
        // Rows of this step, per sequence contiguous: prefix rows first for a sequence's first step.
        var rowSequence: [Int] = []
        var rowEntry: [Int] = []
        var x: [Float] = []
        var lastRow: [Int] = []
        for (i, j) in sequences.enumerated() {
            var entry = entryCounts[j]
            if entry == 0 {
                x += prefix[j * featureCount * d ..< (j + 1) * featureCount * d]
                for f in 0..<featureCount {
                    rowSequence.append(j)
                    rowEntry.append(f)
                }
                entry = featureCount
            }
            x += embeddings[i * d ..< (i + 1) * d]
            rowSequence.append(j)
            rowEntry.append(entry)
            lastRow.append(rowSequence.count - 1)
        }
        let rows = rowSequence.count
        precondition(rowEntry.allSatisfy { $0 < capacity }, "a micro step beyond K tokens")

        // Micro positions are the entry indices; sequence j's cache is block j.
        let positions = rowEntry.map { Int32($0) }
        var kv = DecoderLayerKV(keys: UnsafeMutableRawPointer(keys[0]), values: UnsafeMutableRawPointer(values[0]), element: .float32,
                                blockSize: capacity, blockTables: (0..<sequenceCount).map { Int32($0) },
                                rowTableStart: rowSequence, rowEntry: rowEntry)
        for (l, layer) in decoder.layers.enumerated() {
            kv.keys = UnsafeMutableRawPointer(keys[l])
            kv.values = UnsafeMutableRawPointer(values[l])
            layer.forward(&x, rows: rows, positions: positions, kv: kv, shape: decoder.shape, rope: decoder.rope, pool: pool,
                          layerIndex: l, scratch: scratch)
        }
        for r in 0..<rows { entryCounts[rowSequence[r]] = max(entryCounts[rowSequence[r]], rowEntry[r] + 1) }
        var hidden = [Float](repeating: 0, count: sequences.count * d)
        for (i, r) in lastRow.enumerated() { hidden.replaceSubrange(i * d ..< (i + 1) * d, with: x[r * d ..< (r + 1) * d]) }
        return hidden
    }
}
