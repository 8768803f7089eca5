import ArgumentParser
import Engine
import Foundation
import Tokenization

/// `hamburger score`: a multiple-choice task scored in-process, the way lm-evaluation-harness scores it
/// over HTTP (`local-completions`, loglikelihood): for each question, the log-likelihood of
/// `" " + choice` after `"Question: {question}\nAnswer:"` (context and continuation split where the
/// context's own tokens end), from the engine's prompt logprobs; the choice with the highest one is
/// the answer. Prints accuracy as JSON, so the HTTP path's score can be checked against it.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a multiple-choice JSONL task ({question, choices, answer}) by log-likelihood, in-process."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "JSONL file: one {\"question\": ..., \"choices\": [...], \"answer\": index} per line.")
    var tasks: String

    @Flag(help: "Also print each question's choice log-likelihoods, one JSON line each.")
    var details = false

    struct Item: Decodable {
        let question: String
        let choices: [String]
        let answer: Int
    }

    func run() throws {
        let model = try modelOptions.loadModel()
        let tokenizer = try CommandSupport.loadTokenizer(modelOptions.model)
        let engine = try InferenceEngine(model: model, configuration: EngineConfiguration())
        defer { engine.shutdown() }
        var correct = 0, total = 0
        var requests: [GenerationRequest] = []
        var spans: [(item: Int, choice: Int, contextLength: Int)] = []
        let items = try CommandSupport.jsonLines(tasks, as: Item.self).map(\.1)
        for (i, item) in items.enumerated() {
            let context = "Question: \(item.question)\nAnswer:"
            let contextIds = tokenizer.encode(context).map(Int32.init)
            for (c, choice) in item.choices.enumerated() {
                let whole = tokenizer.encode(context + " " + choice).map(Int32.init)
                requests.append(GenerationRequest(id: "q\(i)c\(c)", promptTokenIds: whole, maxTokens: 1, promptLogprobs: 0))
                spans.append((i, c, contextIds.count))
            }
        }
        let results = try engine.generate(requests)
        var scores = items.map { Array(repeating: -Double.infinity, count: $0.choices.count) }
        for (result, span) in zip(results, spans) {
            // promptLogprobs[k] is the logprob of prompt token k + 1.
            let logprobs = result.promptLogprobs ?? []
            scores[span.item][span.choice] = logprobs.dropFirst(span.contextLength - 1).reduce(0) { $0 + Double($1.logprob) }
        }
        for (index, (item, itemScores)) in zip(items, scores).enumerated() {
            if details { print(CommandSupport.jsonLine(["doc": Double(index), "target": Double(item.answer)] as [String: Double]) + " " + CommandSupport.jsonLine(itemScores)) }
            total += 1
            if itemScores.indices.max(by: { itemScores[$0] < itemScores[$1] }) == item.answer { correct += 1 }
        }
        print(CommandSupport.jsonLine(["task": tasks, "n": "\(total)", "acc": String(format: "%.4f", Double(correct) / Double(max(total, 1)))]))
    }
}
