/// A byte-level BPE tokenizer (the GPT-2 family, as used by SmolLM2): text is cut into special tokens
/// and plain text, plain text into words by the `PreTokenizer`, each word's UTF-8 bytes into byte tokens,
/// and byte tokens are merged by rank. Built from plain values (see `Tokenizer+GGUF.swift` for the model
/// file), immutable, and `Sendable`, so one instance serves every request.
public struct Tokenizer: Sendable {
    /// Token spellings in the byte-level alphabet, indexed by id.
    public let tokens: [String]
    /// The type of each token, indexed by id.
    public let tokenTypes: [TokenType]
    public let preTokenizer: PreTokenizer
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    public let unknownTokenID: Int?
    public let paddingTokenID: Int?
    /// Whether the model expects a BOS token before a prompt (`tokenizer.ggml.add_bos_token`). `encode`
    /// never adds one itself; callers that build a model input prepend `bosTokenID` when this is true.
    public let addsBOSToken: Bool

    let idForToken: [String: Int32]
    let mergeTable: MergeTable
    /// The token of each single byte value, or -1 where the vocabulary has none (SmolLM2 lacks 21 bytes,
    /// mostly ones that never occur in UTF-8). Such bytes are dropped before merging, as the model's
    /// Hugging Face tokenizer (BPE without `unk_token` or byte fallback) does.
    let byteTokenIDs: [Int32]
    /// The bytes each token decodes to.
    let decodedBytes: [[UInt8]]
    /// Control, unknown-type and user-defined tokens: matched whole when special parsing is on.
    let specialMatcher: SpecialTokenMatcher
    /// User-defined tokens only: matched whole even when special parsing is off.
    let userDefinedMatcher: SpecialTokenMatcher

    /// Builds a tokenizer.
    /// - Parameters:
    ///   - tokens: the vocabulary, id = index, spelled in GPT-2's byte-level alphabet.
    ///   - merges: merge rules `"left right"`, rank = index.
    ///   - tokenTypes: `TokenType` raw values (1...6), one per token; empty means all normal.
    ///   - preTokenizer: the word-splitting rule (from `tokenizer.ggml.pre` via `PreTokenizer(name:)`).
    public init(
        tokens: [String], merges: [String], tokenTypes: [Int], preTokenizer: PreTokenizer,
        bosTokenID: Int? = nil, eosTokenID: Int? = nil, unknownTokenID: Int? = nil, paddingTokenID: Int? = nil,
        addsBOSToken: Bool = false
    ) throws(TokenizationError) {
        guard !tokens.isEmpty else { throw .emptyVocabulary }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw .tokenTypeCountMismatch(tokenCount: tokens.count, typeCount: tokenTypes.count)
        }
        var types: [TokenType] = []
        types.reserveCapacity(tokens.count)
        if tokenTypes.isEmpty {
            types = Array(repeating: .normal, count: tokens.count)
        } else {
            for (id, value) in tokenTypes.enumerated() {
                guard let type = TokenType(rawValue: value) else { throw .invalidTokenType(tokenID: id, value: value) }
                types.append(type)
            }
        }
        for (name, id) in [("bos", bosTokenID), ("eos", eosTokenID), ("unknown", unknownTokenID), ("padding", paddingTokenID)] {
            if let id, !tokens.indices.contains(id) {
                throw .specialTokenIDOutOfRange(name: name, id: id, vocabularySize: tokens.count)
            }
        }

        var idForToken: [String: Int32] = [:]
        idForToken.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { idForToken[token] = Int32(id) }  // a later duplicate wins

        let byteTokenIDs: [Int32] = ByteLevelAlphabet.scalarForByte.map { idForToken[String(Character($0))] ?? -1 }

        var special: [(text: String, id: Int)] = []
        var userDefined: [(text: String, id: Int)] = []
        for (id, type) in types.enumerated() {
            switch type {
            case .control, .unknown: special.append((tokens[id], id))
            case .userDefined: special.append((tokens[id], id)); userDefined.append((tokens[id], id))
            default: break
            }
        }

        self.tokens = tokens
        self.tokenTypes = types
        self.preTokenizer = preTokenizer
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.unknownTokenID = unknownTokenID
        self.paddingTokenID = paddingTokenID
        self.addsBOSToken = addsBOSToken
        self.idForToken = idForToken
        self.mergeTable = try MergeTable(rules: merges, idForToken: idForToken)
        self.byteTokenIDs = byteTokenIDs
        self.decodedBytes = zip(tokens, types).map { token, type in
            Self.bytes(ofToken: token, type: type)
        }
        self.specialMatcher = SpecialTokenMatcher(tokens: special)
        self.userDefinedMatcher = SpecialTokenMatcher(tokens: userDefined)
    }

    /// The number of tokens; valid ids are `0..<vocabularySize`.
    public var vocabularySize: Int { tokens.count }

    /// The id of a token spelled exactly `token` (byte-level alphabet for normal tokens), if any.
    public func id(forToken token: String) -> Int? {
        idForToken[token].map(Int.init)
    }

    /// Whether `id` is a control, unknown-type or user-defined token (one matched whole, not by merges).
    public func isSpecial(_ id: Int) -> Bool {
        guard tokenTypes.indices.contains(id) else { return false }
        switch tokenTypes[id] {
        case .control, .unknown, .userDefined: return true
        default: return false
        }
    }

    /// A token's bytes: normal tokens are spelled in the byte-level alphabet and map back to bytes;
    /// control and user-defined tokens are literal text, as are scalars outside the alphabet.
    private static func bytes(ofToken token: String, type: TokenType) -> [UInt8] {
        switch type {
        case .control, .userDefined, .unknown:
            return Array(token.utf8)
        default:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(token.unicodeScalars.count)
            for scalar in token.unicodeScalars {
                if let byte = ByteLevelAlphabet.byte(for: scalar) {
                    bytes.append(byte)
                } else {
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                }
            }
            return bytes
        }
    }
}
