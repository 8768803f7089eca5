import Llama

/// Turns a `SchedulePlan` into the one `ForwardBatch` of an iteration: the chunks' entry inputs as
/// rows (in plan order), their RoPE positions, and one slice per chunk with its block table.
///
/// Single-token inputs become `.token` rows. Merged HAMburger groups become `.embedding` rows through
/// `mergeGroups` (the compositional embedder, one call for every group of the batch) and are flagged in
/// `mergedRows` so that the merge-only LoRA applies to them; without an embedder a group cannot be
/// built, which `build` reports as nil (the engine refuses HAMburger requests without an adapter).
public struct BatchBuilder {
    /// Base layers whose residual stream the pass returns for output rows (HAMburger features).
    public var featureLayers: [Int]
    /// Embeds merged groups of token ids into one input vector of `hiddenSize` floats each.
    public var mergeGroups: (([[Int32]]) -> [[Float]])?
    /// Deltas for the merged rows.
    public var mergeLoRA: LoRAAdapter?

    public init(featureLayers: [Int] = [], mergeGroups: (([[Int32]]) -> [[Float]])? = nil, mergeLoRA: LoRAAdapter? = nil) {
        self.featureLayers = featureLayers
        self.mergeGroups = mergeGroups
        self.mergeLoRA = mergeLoRA
    }

    /// The batch for `plan`, reading inputs and block tables from `scheduler` (after `schedule()`
    /// reserved the blocks). Nil when the plan names a sequence the scheduler does not hold or a
    /// merged group cannot be embedded.
    public func build(_ plan: SchedulePlan, from scheduler: Scheduler) -> ForwardBatch? {
        var inputs: [ForwardBatch.RowInput] = []
        var positions: [Int32] = []
        var slices: [ForwardBatch.Slice] = []
        var mergedRows: [Bool] = []
        var groups: [[Int32]] = []
        var groupRows: [Int] = []
        inputs.reserveCapacity(plan.rowCount)
        positions.reserveCapacity(plan.rowCount)
        for chunk in plan.chunks {
            guard let sequence = scheduler.sequence(chunk.sequenceId),
                  chunk.firstEntry + chunk.rowCount <= sequence.entryInputs.count else { return nil }
            slices.append(ForwardBatch.Slice(
                blockTable: sequence.blockTable.blocks, cachedEntryCount: chunk.firstEntry,
                rowStart: inputs.count, rowCount: chunk.rowCount, wantsOutput: chunk.wantsOutput,
                outputsEveryRow: chunk.outputsEveryRow))
            for entry in chunk.firstEntry ..< chunk.firstEntry + chunk.rowCount {
                switch sequence.entryInputs[entry] {
                case let .token(token):
                    inputs.append(.token(token))
                    mergedRows.append(false)
                case let .mergedGroup(group):
                    groups.append(group)
                    groupRows.append(inputs.count)
                    inputs.append(.token(group.last ?? 0))
                    mergedRows.append(true)
                }
                positions.append(sequence.entryPositions[entry])
            }
        }
        if !groups.isEmpty {
            guard let mergeGroups else { return nil }
            let vectors = mergeGroups(groups)
            guard vectors.count == groups.count else { return nil }
            for (row, vector) in zip(groupRows, vectors) { inputs[row] = .embedding(vector) }
        }
        return ForwardBatch(inputs: inputs, positions: positions, slices: slices, featureLayers: featureLayers,
                            mergedRows: groups.isEmpty ? [] : mergedRows, mergeLoRA: groups.isEmpty ? nil : mergeLoRA)
    }
}
