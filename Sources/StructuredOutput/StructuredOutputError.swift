/// Why a `response_format` schema cannot be compiled into a decoding constraint. The API edge maps
/// every case to a 400 that names the keyword (or the place) at fault.
public enum StructuredOutputError: Error, Equatable, Sendable {
    /// A JSON Schema keyword outside the supported subset (`pattern`, `oneOf`, `minLength`, ...).
    case unsupportedKeyword(keyword: String, path: String)
    /// A keyword with a value of the wrong shape (`"required": 3`, `"type": "widget"`).
    case invalidSchema(path: String, message: String)
    /// A `$ref` that does not point into this document's `$defs` / `definitions` (or `#`).
    case unresolvableReference(String, path: String)
    /// An object schema with more declared properties than the automaton tracks (64).
    case tooManyProperties(count: Int, path: String)

    /// What went wrong and what to do, for the error body.
    public var message: String {
        switch self {
        case let .unsupportedKeyword(keyword, path):
            return "JSON schema keyword '\(keyword)' (at \(path)) is not supported for constrained decoding; supported: type, properties, required, additionalProperties, items, minItems, maxItems, enum, const, minimum, maximum, anyOf, $ref, $defs."
        case let .invalidSchema(path, message):
            return "invalid JSON schema at \(path): \(message)"
        case let .unresolvableReference(reference, path):
            return "JSON schema $ref '\(reference)' (at \(path)) does not resolve; only '#', '#/$defs/NAME' and '#/definitions/NAME' within the schema are supported."
        case let .tooManyProperties(count, path):
            return "the object schema at \(path) declares \(count) properties; at most 64 are supported."
        }
    }

    /// The keyword at fault, when one is (for the error body's `param`).
    public var keyword: String? {
        if case let .unsupportedKeyword(keyword, _) = self { return keyword }
        return nil
    }
}
