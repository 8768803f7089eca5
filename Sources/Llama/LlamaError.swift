import GGUF

/// What can go wrong turning a GGUF file into a runnable Llama model.
public enum LlamaError: Error, CustomStringConvertible {
    case unsupportedArchitecture(String?)
    case invalidHyperparameters(String)
    case tensorShape(name: String, expected: [Int], found: [Int])
    case file(GGUFError)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(name):
            return "model architecture '\(name ?? "none")' is not supported; this server runs Llama-architecture GGUF files (e.g. SmolLM2)"
        case let .invalidHyperparameters(why):
            return "model hyperparameters are invalid: \(why)"
        case let .tensorShape(name, expected, found):
            return "tensor '\(name)' has shape \(found), expected \(expected); the file does not match its own metadata"
        case let .file(error):
            return error.description
        }
    }
}
