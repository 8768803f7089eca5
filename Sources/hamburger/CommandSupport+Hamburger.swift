import Foundation
import Hamburger
import Llama

extension CommandSupport {
    /// The committed adapter, relative to the working directory (the repository root).
    static let defaultAdapterPath = "models/hamburger-smollm2-135m.json"

    /// Loads the HAMburger adapter at `adapterPath` for `model` (read from `modelPath`), turning any
    /// problem into a message that says what to do.
    static func loadHamburger(model: LlamaModel, modelPath: String, adapterPath: String) throws -> HamburgerRuntime {
        guard FileManager.default.fileExists(atPath: adapterPath) else {
            throw CLIError("HAMburger adapter '\(adapterPath)' not found; pass --adapter PATH to an exported adapter JSON (python -m hamburger_train.export), or use --decoding autoregressive")
        }
        do {
            return try HamburgerRuntime(model: model, adapterPath: adapterPath, baseModelPath: modelPath)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Checks a --confidence value: in (0, 1].
    static func checkConfidence(_ confidence: Double?) -> String? {
        guard let confidence else { return nil }
        return confidence > 0 && confidence <= 1 ? nil : "--confidence must be in (0, 1], got \(confidence)"
    }
}
