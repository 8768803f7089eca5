import ArgumentParser
import Foundation
import GGUF
import Tokenization

/// `hamburger tokenize`: token ids of text as JSON, using the model file's own tokenizer.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of text (special tokens such as <|im_start|> are parsed)."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Text to tokenize.")
    var text: String?

    @Option(help: "A JSONL file; each line {\"text\": ...} gives one output line {\"ids\": [...]}.")
    var input: String?

    func validate() throws {
        guard (text == nil) != (input == nil) else { throw ValidationError("pass exactly one of --text or --input") }
    }

    func run() throws {
        let tokenizer = try CommandSupport.loadTokenizer(modelOptions.model)
        if let text {
            print(CommandSupport.jsonLine(["ids": tokenizer.encode(text)]))
            return
        }
        struct Line: Decodable { let text: String }
        for (number, line) in try CommandSupport.jsonLines(input!, as: Line.self) {
            _ = number
            print(CommandSupport.jsonLine(["ids": tokenizer.encode(line.text)]))
        }
    }
}
