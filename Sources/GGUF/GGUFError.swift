/// Everything that can be wrong with a GGUF file. Each message says what is wrong and, where it helps,
/// what to do; a truncated, corrupt or random file lands here instead of crashing the process.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case notGGUF(path: String)
    case unsupportedVersion(UInt32)
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    case invalidValueType(key: String, type: UInt32)
    case invalidString(offset: Int)
    case implausibleCount(what: String, count: UInt64)
    case duplicateKey(String)
    case duplicateTensor(String)
    case invalidTensor(name: String, reason: String)
    case unknownTensorType(name: String, typeID: UInt32)
    case unsupportedTensorType(name: String, type: GGMLType)
    case tensorOutOfBounds(name: String, offset: Int, byteCount: Int, fileSize: Int)
    case missingTensor(String)
    case missingMetadata(String)
    case wrongMetadataType(key: String, expected: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open GGUF file '\(path)': \(reason)"
        case let .notGGUF(path):
            return "'\(path)' is not a GGUF file (its first four bytes are not 'GGUF'); check the model path or run 'make setup'"
        case let .unsupportedVersion(v):
            return "GGUF version \(v) is not supported (versions 2 and 3 are); convert the model with a current llama.cpp"
        case let .truncated(what, offset, needed, size):
            return "GGUF file is truncated or corrupt: reading \(what) needs \(needed) bytes at offset \(offset), but the file has \(size) bytes; download the model again ('make setup')"
        case let .invalidValueType(key, type):
            return "GGUF metadata key '\(key)' has unknown value type \(type); the file is corrupt"
        case let .invalidString(offset):
            return "GGUF string at offset \(offset) is not valid UTF-8; the file is corrupt"
        case let .implausibleCount(what, count):
            return "GGUF \(what) count \(count) is larger than the file could hold; the file is corrupt"
        case let .duplicateKey(key):
            return "GGUF metadata key '\(key)' appears twice; the file is corrupt"
        case let .duplicateTensor(name):
            return "GGUF tensor '\(name)' appears twice; the file is corrupt"
        case let .invalidTensor(name, reason):
            return "GGUF tensor '\(name)' is invalid: \(reason)"
        case let .unknownTensorType(name, typeID):
            return "GGUF tensor '\(name)' has unknown ggml type id \(typeID)"
        case let .unsupportedTensorType(name, type):
            return "GGUF tensor '\(name)' has type \(type), which this server cannot dequantize (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1); use a model quantized to one of those"
        case let .tensorOutOfBounds(name, offset, count, size):
            return "GGUF tensor '\(name)' spans \(count) bytes from offset \(offset), past the end of the file (\(size) bytes); the file is truncated, download it again"
        case let .missingTensor(name):
            return "GGUF file has no tensor '\(name)'; is this a Llama-architecture model?"
        case let .missingMetadata(key):
            return "GGUF file has no metadata key '\(key)'"
        case let .wrongMetadataType(key, expected):
            return "GGUF metadata key '\(key)' should be \(expected)"
        }
    }
}
