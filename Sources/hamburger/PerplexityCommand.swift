import ArgumentParser
import Dispatch
import Foundation
import KVCache
import Kernels
import Llama

/// `hamburger perplexity`: what a lossy KV storage type (or weight/activation precision) costs, measured the way quantised inference is
/// judged rather than by greedy identity: on a fixed text, every position teacher-forced (the text's own
/// tokens fed one at a time, each stored in the pages and read back by attention), the candidate's
/// logits against the reference's at the same position: perplexity of the text and its change, top-1
/// agreement, and the largest logit change.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Teacher-forced perplexity, top-1 agreement and logit change of KV storage types (or weight precisions) against a reference on a fixed text."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "UTF-8 text to score (a fixed text, committed in bench/texts/).")
    var text: String = "bench/texts/gpl-3.0.txt"

    @Option(help: "Score the first N tokens of the text.")
    var maxTokens: Int = 2048

    @Option(help: "Comma-separated KV storage types compared with the reference (--kv-cache-dtype, default float32).")
    var candidates: String = "bfloat16,float16,int8"

    @Option(help: "Comma-separated weight precisions (e.g. native-int8, or LAYERS:HEAD such as native-int8:native for another LM head precision) compared with the reference --weights, each with the reference KV type; replaces --candidates.")
    var weightCandidates: String?

    @Flag(help: "Print one JSON line per storage type instead of a table.")
    var json = false

    /// Running comparison of one storage type's logits with the reference's.
    private struct Tally {
        var nll = 0.0, agree = 0, maxLogitChange: Float = 0
    }

    /// One compared configuration: a model (the reference's, or one loaded in another weight precision)
    /// with its own pages.
    private struct Arm {
        let label: String
        let model: LlamaModel
        let pages: KVPages
    }

    func run() throws {
        let weightTypes = try (weightCandidates ?? "").split(separator: ",").map { entry -> (layers: WeightPrecision, head: WeightPrecision?) in
            let parts = entry.split(separator: ":").map { WeightPrecision(rawValue: String($0).trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(parts.count), let layers = parts[0], parts.count == 1 || parts[1] != nil else {
                throw ValidationError("--weight-candidates: unknown precision '\(entry)'; choose from \(WeightPrecision.allCases.map(\.rawValue).joined(separator: ", ")), optionally LAYERS:HEAD")
            }
            return (layers, parts.count == 2 ? parts[1] : nil)
        }
        let types = weightCandidates != nil ? [] : try candidates.split(separator: ",").map { name -> KVElementType in
            guard let type = KVElementType(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--candidates: unknown KV type '\(name)'; choose from \(KVElementType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return type
        }
        guard maxTokens >= 2 else { throw ValidationError("--max-tokens must be at least 2") }
        guard let data = FileManager.default.contents(atPath: text), let body = String(data: data, encoding: .utf8) else {
            throw CLIError("cannot read '\(text)' as UTF-8 text; pass --text FILE")
        }
        let tokenizer = try CommandSupport.loadTokenizer(modelOptions.model)
        let tokens = Array(tokenizer.encode(body).prefix(maxTokens))
        let model = try modelOptions.loadModel()
        let hp = model.hyperparameters
        guard tokens.count >= 2, tokens.count <= hp.contextLength else {
            throw ValidationError("the text gives \(tokens.count) tokens; need 2 ... \(hp.contextLength) (lower --max-tokens)")
        }
        let blockSize = 16, blockCount = (tokens.count + blockSize - 1) / blockSize
        let table = (0..<blockCount).map(Int32.init)
        let reference = modelOptions.kvCacheDtype
        func pages(_ type: KVElementType) throws -> KVPages {
            KVPages(layout: try KVCacheCapacity.blocks(blockCount).layout(
                layerCount: hp.layerCount, entryWidth: hp.kvEntryWidth, headDim: hp.headDim, blockSize: blockSize, elementType: type))
        }
        var arms = [Arm(label: "\(modelOptions.weights.rawValue) / \(reference)", model: model, pages: try pages(reference))]
        for type in types { arms.append(Arm(label: "\(modelOptions.weights.rawValue) / \(type)", model: model, pages: try pages(type))) }
        for (layers, head) in weightTypes {
            let candidate = try CommandSupport.loadModel(modelOptions.model, precision: layers, lmHeadPrecision: head, threads: modelOptions.threads)
            let label = head.map { "\(layers.rawValue) (LM head \($0.rawValue))" } ?? layers.rawValue
            arms.append(Arm(label: "\(label) / \(reference)", model: candidate, pages: try pages(reference)))
        }
        var tallies = [Tally](repeating: Tally(), count: arms.count - 1)
        var referenceNLL = 0.0
        let vocab = hp.vocabSize
        let start = DispatchTime.now()
        for position in 0..<tokens.count - 1 {
            let batch = ForwardBatch(
                inputs: [.token(Int32(tokens[position]))], positions: [Int32(position)],
                slices: [.init(blockTable: table, cachedEntryCount: position, rowStart: 0, rowCount: 1, wantsOutput: true)])
            let logits = arms.map { $0.model.forward(batch, pages: $0.pages).logits }
            let next = Int(tokens[position + 1])
            referenceNLL += Self.negativeLogLikelihood(logits[0], of: next)
            let referenceTop = logits[0].withUnsafeBufferPointer { argmax($0) }
            for i in tallies.indices {
                let candidate = logits[i + 1]
                tallies[i].nll += Self.negativeLogLikelihood(candidate, of: next)
                if candidate.withUnsafeBufferPointer({ argmax($0) }) == referenceTop { tallies[i].agree += 1 }
                var change: Float = 0
                for v in 0..<vocab { change = max(change, abs(candidate[v] - logits[0][v])) }
                tallies[i].maxLogitChange = max(tallies[i].maxLogitChange, change)
            }
        }
        let seconds = CommandSupport.seconds(since: start)
        let scored = tokens.count - 1
        let refPPL = exp(referenceNLL / Double(scored))
        if !json {
            print("model: \(modelOptions.model)  text: \(text), \(scored) positions teacher-forced, \(String(format: "%.0f", seconds)) s")
            print("reference (weights / KV): \(arms[0].label), perplexity \(String(format: "%.4f", refPPL))")
            print("| weights / KV type | KV bytes/entry | perplexity | change | top-1 agreement | max logit change |")
            print("|---|---|---|---|---|---|")
        }
        for (i, tally) in tallies.enumerated() {
            let arm = arms[i + 1]
            let ppl = exp(tally.nll / Double(scored))
            let change = (ppl / refPPL - 1) * 100, agreement = Double(tally.agree) / Double(scored)
            let bytes = arm.pages.layout.bytesPerEntry
            if json {
                print(#"{"weights": "\#(arm.label)", "kv_cache_dtype": "\#(arm.pages.layout.elementType)", "reference": "\#(arms[0].label)", "positions": \#(scored), "bytes_per_entry": \#(bytes), "perplexity": \#(String(format: "%.5f", ppl)), "reference_perplexity": \#(String(format: "%.5f", refPPL)), "perplexity_change_percent": \#(String(format: "%.4f", change)), "top1_agreement": \#(String(format: "%.5f", agreement)), "max_logit_change": \#(String(format: "%.5f", tally.maxLogitChange))}"#)
            } else {
                print("| \(arm.label) | \(bytes) | \(String(format: "%.4f", ppl)) | \(String(format: "%+.3f", change))% | \(String(format: "%.2f", agreement * 100))% | \(String(format: "%.4f", tally.maxLogitChange)) |")
            }
        }
    }

    /// -log softmax(logits)[token], in Double.
    private static func negativeLogLikelihood(_ logits: [Float], of token: Int) -> Double {
        let top = Double(logits.max() ?? 0)
        var sum = 0.0
        for value in logits { sum += Foundation.exp(Double(value) - top) }
        return top + Foundation.log(sum) - Double(logits[token])
    }
}
