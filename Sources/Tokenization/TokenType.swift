/// The kind of a vocabulary entry, as `tokenizer.ggml.token_type` stores it. It decides how a token is
/// matched in text (control and user-defined tokens are matched whole, never built by merges) and how it
/// is decoded (control tokens are not byte-level encoded).
public enum TokenType: Int, Sendable, Equatable {
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}
