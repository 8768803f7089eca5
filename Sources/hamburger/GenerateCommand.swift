import ArgumentParser
import Engine
import Foundation
import Llama
import Tokenization

/// `hamburger generate`: text generation from the command line, one prompt streamed to stdout or a
/// JSONL file of prompts run through the engine at once (offline batch inference).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text for a prompt (streamed) or a JSONL file of prompts (batched)."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The prompt text.")
    var prompt: String?

    @Option(help: "JSONL file; each line {\"prompt\": \"...\", \"chat\": true|false}.")
    var promptsFile: String?

    @Flag(help: "Wrap --prompt in the model's chat template (as a user message).")
    var chat = false

    @Option(help: "Most tokens to generate per prompt.")
    var maxTokens: Int = 128

    @Option(help: "Sampling temperature; 0 = greedy.")
    var temperature: Float = 0.8

    @Option(help: "Nucleus sampling mass (0, 1].")
    var topP: Float = 1

    @Option(help: "Sample from the K most likely tokens; 0 = off.")
    var topK: Int = 0

    @Option(help: "Random seed for reproducible sampling.")
    var seed: UInt64?

    @Option(help: "autoregressive, or hamburger (several tokens per base pass; needs --adapter).")
    var decoding: String = "autoregressive"

    @OptionGroup var hamburgerOptions: HamburgerOptions

    @Option(help: "Sequences run at once with --prompts-file (max_num_seqs).")
    var concurrency: Int = 16

    @Flag(help: "One JSON line per prompt: prompt, token_ids, text, finish_reason, macro_steps, group_sizes.")
    var json = false

    func validate() throws {
        guard (prompt == nil) != (promptsFile == nil) else { throw ValidationError("pass exactly one of --prompt or --prompts-file") }
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be at least 1") }
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard decoding == "autoregressive" || decoding == "hamburger" else {
            throw ValidationError("--decoding must be 'autoregressive' or 'hamburger'")
        }
    }

    func run() throws {
        struct Line: Decodable { let prompt: String; let chat: Bool? }
        let inputs: [(text: String, chat: Bool)]
        if let prompt {
            inputs = [(prompt, chat)]
        } else {
            inputs = try CommandSupport.jsonLines(promptsFile!, as: Line.self).map { ($0.1.prompt, $0.1.chat ?? false) }
        }
        let model = try modelOptions.loadModel()
        let (tokenizer, template) = try CommandSupport.loadTokenization(modelOptions.model)
        var config = EngineConfiguration()
        config.maxSequenceCount = concurrency
        config.kvElementType = modelOptions.kvCacheDtype
        let engine: InferenceEngine
        let hamburger = decoding == "hamburger"
            ? try CommandSupport.loadHamburger(model: model, modelPath: modelOptions.model, adapterPath: hamburgerOptions.adapter) : nil
        do { engine = try InferenceEngine(model: model, configuration: config, adapter: hamburger) } catch { throw CLIError("\(error)") }
        defer { engine.shutdown() }

        let sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed)
        let mode: DecodingMode = hamburger.map { CommandSupport.hamburgerMode($0, confidence: hamburgerOptions.confidence, minProbability: hamburgerOptions.minProbability) } ?? .autoregressive
        let requests = inputs.enumerated().map { index, input in
            let text = input.chat ? template.render([ChatMessage(role: "user", content: input.text)], addGenerationPrompt: true) : input.text
            return GenerationRequest(id: "p\(index)", promptTokenIds: tokenizer.encode(text).map(Int32.init),
                                     sampling: sampling, maxTokens: maxTokens, decoding: mode)
        }

        if prompt != nil, !json {
            try streamOne(requests[0], engine: engine, tokenizer: tokenizer)
            return
        }
        let results: [GenerationResult]
        do { results = try engine.generate(requests) } catch { throw CLIError("\(error)") }
        for (input, result) in zip(inputs, results) {
            let text = (try? tokenizer.decode(result.tokenIds.map(Int.init), skipSpecialTokens: true)) ?? ""
            if let failure = result.failure { FileHandle.standardError.write(Data("error: \(failure)\n".utf8)) }
            if json {
                struct Output: Encodable {
                    let prompt: String; let token_ids: [Int32]; let text: String; let finish_reason: String
                    let macro_steps: Int; let group_sizes: [Int]
                }
                print(CommandSupport.jsonLine(Output(
                    prompt: input.text, token_ids: result.tokenIds, text: text, finish_reason: result.finishReason.rawValue,
                    macro_steps: result.macroSteps, group_sizes: result.groupSizes)))
            } else {
                print("### \(input.text)\n\(text)\n")
            }
        }
    }

    /// Streams one request's text to stdout as tokens arrive.
    private func streamOne(_ request: GenerationRequest, engine: InferenceEngine, tokenizer: Tokenizer) throws {
        let done = DispatchSemaphore(value: 0)
        final class Printer: @unchecked Sendable {
            var detokenizer: StreamingDetokenizer
            init(_ tokenizer: Tokenizer) { detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true) }
        }
        let printer = Printer(tokenizer)
        do {
            try engine.submit(request) { event in
                switch event {
                case let .tokens(ids, _):
                    let text = (try? printer.detokenizer.append(contentsOf: ids.map(Int.init))) ?? ""
                    FileHandle.standardOutput.write(Data(text.utf8))
                case .promptLogprobs:
                    break  // not asked for here
                case .finished:
                    FileHandle.standardOutput.write(Data((printer.detokenizer.finish() + "\n").utf8))
                    done.signal()
                case let .failed(error, _, _):
                    FileHandle.standardOutput.write(Data((printer.detokenizer.finish() + "\n").utf8))
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    done.signal()
                }
            }
        } catch {
            throw CLIError("\(error)")
        }
        done.wait()
    }
}
