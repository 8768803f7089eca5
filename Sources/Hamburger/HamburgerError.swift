/// Everything that can go wrong loading or using a HAMburger adapter; each message says what to do.
public enum HamburgerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// The adapter JSON is not valid JSON or lacks a key.
    case invalidConfiguration(path: String, reason: String)
    /// `format` / `format_version` is not one this engine reads.
    case unsupportedFormat(path: String, format: String, version: Int)
    /// The base model file is not the one the adapter was trained on.
    case baseModelMismatch(adapterPath: String, expectedSHA256: String, basePath: String, actualSHA256: String)
    /// The adapter's recorded base shapes differ from the loaded model's.
    case baseShapeMismatch(path: String, reason: String)
    /// The safetensors file is damaged (header, offsets, truncated data).
    case invalidSafetensors(path: String, reason: String)
    case missingTensor(path: String, name: String)
    case tensorShape(path: String, name: String, expected: [Int], found: [Int])
    case unsupportedTensorType(path: String, name: String, dtype: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read HAMburger adapter file \(path): \(reason); check the --adapter path (run the trainer's export to produce it) or use --decoding autoregressive."
        case let .invalidConfiguration(path, reason):
            return "HAMburger adapter config \(path) is invalid: \(reason); re-export it with `python -m hamburger_train.export`."
        case let .unsupportedFormat(path, format, version):
            return "HAMburger adapter \(path) has format '\(format)' version \(version), but this engine reads 'hamburger-adapter' version \(HamburgerAdapter.formatVersion); re-export it with a matching trainer or upgrade the server."
        case let .baseModelMismatch(adapter, expected, base, actual):
            return "HAMburger adapter \(adapter) was trained for a base model with sha256 \(expected), but \(base) has sha256 \(actual); use the base model file the adapter was trained on (run `make setup`), or retrain the adapter for this one."
        case let .baseShapeMismatch(path, reason):
            return "HAMburger adapter \(path) does not fit the loaded base model: \(reason); use the adapter trained for this model."
        case let .invalidSafetensors(path, reason):
            return "HAMburger adapter weights \(path) are damaged: \(reason); re-export or re-download the adapter."
        case let .missingTensor(path, name):
            return "HAMburger adapter weights \(path) lack tensor '\(name)'; re-export the adapter with a matching trainer."
        case let .tensorShape(path, name, expected, found):
            return "HAMburger adapter tensor '\(name)' in \(path) has shape \(found), expected \(expected); re-export the adapter for this base model."
        case let .unsupportedTensorType(path, name, dtype):
            return "HAMburger adapter tensor '\(name)' in \(path) has dtype \(dtype); only F32, F16 and BF16 are read. Re-export with --dtype f16 or f32."
        }
    }
}
