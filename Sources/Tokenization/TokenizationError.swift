/// Everything that can go wrong when building a tokenizer from model metadata, encoding, decoding or
/// rendering a chat. One enum for the module so callers (CLI, HTTP layer) map errors in one place; every
/// case carries the context needed to act on it, and `description` says what to do.
public enum TokenizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A required metadata key is absent from the model file.
    case missingMetadata(key: String)
    /// A metadata key holds a value of the wrong kind (`expected` names what was wanted).
    case invalidMetadata(key: String, expected: String)
    /// `tokenizer.ggml.model` names a tokenizer family this module does not implement.
    case unsupportedTokenizerModel(name: String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
    case unknownPreTokenizer(name: String)
    /// The vocabulary has no tokens.
    case emptyVocabulary
    /// `tokenTypes` does not have one entry per token.
    case tokenTypeCountMismatch(tokenCount: Int, typeCount: Int)
    /// A token type value outside 1...6.
    case invalidTokenType(tokenID: Int, value: Int)
    /// A merge rule that is not two vocabulary tokens separated by one space, or whose result is not a token.
    case invalidMerge(rank: Int, merge: String, reason: String)
    /// A special id (bos/eos/unknown/padding) that does not name a token.
    case specialTokenIDOutOfRange(name: String, id: Int, vocabularySize: Int)
    /// A token id outside the vocabulary was given to a decoder.
    case tokenIDOutOfRange(id: Int, vocabularySize: Int)
    /// The chat template is not one this module knows how to render exactly.
    case unsupportedChatTemplate(excerpt: String)

    public var description: String {
        switch self {
        case .missingMetadata(let key):
            return "The model file has no '\(key)' metadata; use a GGUF converted with a tokenizer (llama.cpp's convert script writes it)."
        case .invalidMetadata(let key, let expected):
            return "The model metadata '\(key)' is not \(expected); the file may be corrupt or from an unsupported converter."
        case .unsupportedTokenizerModel(let name):
            return "Tokenizer model '\(name)' is not supported; only byte-level BPE ('gpt2') models can be used."
        case .unknownPreTokenizer(let name):
            return "Pre-tokenizer '\(name)' is not supported (supported: \(PreTokenizer.supportedNames.joined(separator: ", "))); use a model whose tokenizer.ggml.pre is one of these."
        case .emptyVocabulary:
            return "The vocabulary is empty; the model file carries no tokens."
        case .tokenTypeCountMismatch(let tokenCount, let typeCount):
            return "There are \(tokenCount) tokens but \(typeCount) token types; the two lists must be the same length."
        case .invalidTokenType(let tokenID, let value):
            return "Token \(tokenID) has type \(value); valid types are 1 (normal) to 6 (byte)."
        case .invalidMerge(let rank, let merge, let reason):
            return "Merge rule \(rank) ('\(merge)') is invalid: \(reason)."
        case .specialTokenIDOutOfRange(let name, let id, let vocabularySize):
            return "The \(name) token id \(id) is outside the vocabulary of \(vocabularySize) tokens."
        case .tokenIDOutOfRange(let id, let vocabularySize):
            return "Token id \(id) is outside the vocabulary (valid ids are 0..<\(vocabularySize))."
        case .unsupportedChatTemplate(let excerpt):
            return "The chat template is not a recognised ChatML template and will not be guessed (it begins: \(excerpt.debugDescription)); use a model with a ChatML template or render the prompt yourself."
        }
    }
}
