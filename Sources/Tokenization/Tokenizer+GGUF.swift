import GGUF

/// Reading the tokenizer and chat template from a GGUF model's metadata (`tokenizer.ggml.*`,
/// `tokenizer.chat_template`).
extension Tokenizer {
    /// The tokenizer a GGUF model file describes.
    public init(gguf file: GGUFFile) throws(TokenizationError) {
        try self.init(ggufMetadata: file.metadata)
    }

    /// The tokenizer described by GGUF metadata. Requires `tokenizer.ggml.model` = `gpt2` (byte-level
    /// BPE), `tokens`, `merges` and `pre`; `token_type`, the special ids and `add_bos_token` are optional.
    public init(ggufMetadata metadata: [String: GGUFValue]) throws(TokenizationError) {
        let model = try Self.string(metadata, "tokenizer.ggml.model")
        guard model == "gpt2" else { throw .unsupportedTokenizerModel(name: model) }
        let preTokenizer = try PreTokenizer(name: try Self.string(metadata, "tokenizer.ggml.pre"))
        let tokens = try Self.strings(metadata, "tokenizer.ggml.tokens")
        let merges = try Self.strings(metadata, "tokenizer.ggml.merges")
        var tokenTypes: [Int] = []
        if let value = metadata["tokenizer.ggml.token_type"] {
            guard let types = value.intArray else {
                throw .invalidMetadata(key: "tokenizer.ggml.token_type", expected: "an array of integers")
            }
            tokenTypes = types
        }
        var addsBOSToken = false
        if let value = metadata["tokenizer.ggml.add_bos_token"] {
            guard let flag = value.boolValue else {
                throw .invalidMetadata(key: "tokenizer.ggml.add_bos_token", expected: "a boolean")
            }
            addsBOSToken = flag
        }
        try self.init(
            tokens: tokens, merges: merges, tokenTypes: tokenTypes, preTokenizer: preTokenizer,
            bosTokenID: try Self.optionalInt(metadata, "tokenizer.ggml.bos_token_id"),
            eosTokenID: try Self.optionalInt(metadata, "tokenizer.ggml.eos_token_id"),
            unknownTokenID: try Self.optionalInt(metadata, "tokenizer.ggml.unknown_token_id"),
            paddingTokenID: try Self.optionalInt(metadata, "tokenizer.ggml.padding_token_id"),
            addsBOSToken: addsBOSToken
        )
    }

    private static func string(_ metadata: [String: GGUFValue], _ key: String) throws(TokenizationError) -> String {
        guard let value = metadata[key] else { throw .missingMetadata(key: key) }
        guard let string = value.stringValue else { throw .invalidMetadata(key: key, expected: "a string") }
        return string
    }

    private static func strings(_ metadata: [String: GGUFValue], _ key: String) throws(TokenizationError) -> [String] {
        guard let value = metadata[key] else { throw .missingMetadata(key: key) }
        guard let strings = value.stringArray else { throw .invalidMetadata(key: key, expected: "an array of strings") }
        return strings
    }

    private static func optionalInt(_ metadata: [String: GGUFValue], _ key: String) throws(TokenizationError) -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let int = value.intValue else { throw .invalidMetadata(key: key, expected: "an integer") }
        return int
    }
}

extension ChatTemplate {
    /// The chat template of a GGUF model file (`tokenizer.chat_template`), if it is a recognised one.
    public init(gguf file: GGUFFile) throws(TokenizationError) {
        try self.init(ggufMetadata: file.metadata)
    }

    /// The chat template in GGUF metadata; a missing key or an unrecognised template throws.
    public init(ggufMetadata metadata: [String: GGUFValue]) throws(TokenizationError) {
        let key = "tokenizer.chat_template"
        guard let value = metadata[key] else { throw .missingMetadata(key: key) }
        guard let template = value.stringValue else { throw .invalidMetadata(key: key, expected: "a string") }
        try self.init(jinja: template)
    }
}
