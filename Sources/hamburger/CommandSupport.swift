import ArgumentParser
import Foundation
import GGUF
import Llama
import Tokenization

/// Small shared pieces of the subcommands: loading the model with a readable error, timing, medians.
enum CommandSupport {
    /// Loads the model, turning any file problem into a message that says what to do.
    static func loadModel(_ path: String, precision: WeightPrecision, lmHeadPrecision: WeightPrecision? = nil, threads: Int) throws -> LlamaModel {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("model file '\(path)' not found; run 'make setup' to download it, or pass --model PATH")
        }
        do {
            return try LlamaModel(path: path, precision: precision, lmHeadPrecision: lmHeadPrecision, threadCount: threads > 0 ? threads : nil)
        } catch {
            throw CLIError("cannot load model '\(path)': \(error)")
        }
    }

    /// Loads the tokenizer and chat template stored in the model file.
    static func loadTokenizer(_ path: String) throws -> Tokenizer {
        try loadTokenization(path).tokenizer
    }

    /// The tokenizer and the chat template of a model file.
    static func loadTokenization(_ path: String) throws -> (tokenizer: Tokenizer, template: ChatTemplate) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("model file '\(path)' not found; run 'make setup' to download it, or pass --model PATH")
        }
        do {
            let file = try GGUFFile(path: path)
            return (try Tokenizer(gguf: file), try ChatTemplate(gguf: file))
        } catch {
            throw CLIError("cannot read the tokenizer of '\(path)': \(error)")
        }
    }

    /// Reads a JSONL file, one decoded value per non-empty line; a bad line names its number.
    static func jsonLines<T: Decodable>(_ path: String, as type: T.Type) throws -> [(Int, T)] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIError("cannot read '\(path)' as UTF-8 text")
        }
        var out: [(Int, T)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                out.append((index + 1, try JSONDecoder().decode(T.self, from: Data(trimmed.utf8))))
            } catch {
                throw CLIError("\(path):\(index + 1): not a valid JSON line for this command (\(error))")
            }
        }
        return out
    }

    /// One compact JSON line with sorted keys.
    static func jsonLine<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(data: encoder.encode(value), encoding: .utf8)) ?? "{}"
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// A run-time failure of a subcommand: printed as `Error: <message>` without the usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
