import GGUF
import TestSupport
import Tokenization

/// The real SmolLM2 tokenizer and chat template, read once through the Swift GGUF reader.
enum ModelTokenizer {
    struct Loaded: Sendable {
        let metadata: [String: GGUFValue]
        let tokenizer: Tokenizer
        let chatTemplate: ChatTemplate
    }

    static let loaded: Result<Loaded, LoadError> = {
        do {
            let file = try GGUFFile(path: TestPaths.modelPath)
            return .success(Loaded(
                metadata: file.metadata, tokenizer: try Tokenizer(gguf: file), chatTemplate: try ChatTemplate(gguf: file)
            ))
        } catch {
            return .failure(LoadError(message: "loading \(TestPaths.modelPath): \(error) (run `make setup`)"))
        }
    }()

    struct LoadError: Error, Sendable, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func get() throws -> Loaded { try loaded.get() }
}

/// `Tests/Fixtures/tokenizer-ids.json`: ids from Hugging Face transformers on the same GGUF.
struct TokenizerIDFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
    }
    let cases: [Case]
}

/// `Tests/Fixtures/chat-template.json`: `apply_chat_template` text and ids from transformers.
struct ChatTemplateFixture: Decodable {
    struct Case: Decodable {
        let messages: [ChatMessage]
        let add_generation_prompt: Bool
        let text: String
        let ids: [Int]
    }
    let chat_template: String
    let default_system_message: String
    let cases: [Case]
}
