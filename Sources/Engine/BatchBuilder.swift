import Llama

/// Turns a `SchedulePlan` into the one `ForwardBatch` of an iteration: the chunks' entry inputs as
/// rows (in plan order), their RoPE positions, and one slice per chunk with its block table.
///
/// Single-token inputs become `.token` rows. Merged HAMburger groups become `.embedding` rows through
/// `mergeGroup` (the compositional embedder); without one a group cannot be built, which `build`
/// reports as nil (the engine refuses HAMburger requests until it has an embedder).
public struct BatchBuilder {
    /// Base layers whose residual stream the pass returns for output rows (HAMburger features).
    public var featureLayers: [Int]
    /// Embeds a merged group of token ids into one input vector of `hiddenSize` floats.
    public var mergeGroup: (([Int32]) -> [Float])?

    public init(featureLayers: [Int] = [], mergeGroup: (([Int32]) -> [Float])? = nil) {
        self.featureLayers = featureLayers
        self.mergeGroup = mergeGroup
    }

    /// The batch for `plan`, reading inputs and block tables from `scheduler` (after `schedule()`
    /// reserved the blocks). Nil when the plan names a sequence the scheduler does not hold or a
    /// merged group cannot be embedded.
    public func build(_ plan: SchedulePlan, from scheduler: Scheduler) -> ForwardBatch? {
        var inputs: [ForwardBatch.RowInput] = []
        var positions: [Int32] = []
        var slices: [ForwardBatch.Slice] = []
        inputs.reserveCapacity(plan.rowCount)
        positions.reserveCapacity(plan.rowCount)
        for chunk in plan.chunks {
            guard let sequence = scheduler.sequence(chunk.sequenceId),
                  chunk.firstEntry + chunk.rowCount <= sequence.entryInputs.count else { return nil }
            slices.append(ForwardBatch.Slice(
                blockTable: sequence.blockTable.blocks, cachedEntryCount: chunk.firstEntry,
                rowStart: inputs.count, rowCount: chunk.rowCount, wantsOutput: chunk.wantsOutput))
            for entry in chunk.firstEntry ..< chunk.firstEntry + chunk.rowCount {
                switch sequence.entryInputs[entry] {
                case let .token(token):
                    inputs.append(.token(token))
                case let .mergedGroup(group):
                    guard let mergeGroup else { return nil }
                    inputs.append(.embedding(mergeGroup(group)))
                }
                positions.append(sequence.entryPositions[entry])
            }
        }
        return ForwardBatch(inputs: inputs, positions: positions, slices: slices, featureLayers: featureLayers)
    }
}
