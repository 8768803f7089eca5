import Engine
import Foundation
import Hamburger
import Llama

extension CommandSupport {
    /// The committed adapter, relative to the working directory (the repository root).
    static let defaultAdapterPath = "models/hamburger-smollm2-135m.json"

    /// Loads the HAMburger adapter at `adapterPath` for `model` (read from `modelPath`), turning any
    /// problem into a message that says what to do.
    static func loadHamburger(model: LlamaModel, modelPath: String, adapterPath: String) throws -> HamburgerAdapter {
        guard FileManager.default.fileExists(atPath: adapterPath) else {
            throw CLIError("HAMburger adapter '\(adapterPath)' not found; pass --adapter PATH to an exported adapter JSON (python -m hamburger_train.export), or use --decoding autoregressive")
        }
        do {
            return try HamburgerAdapter(path: adapterPath, baseModelPath: modelPath, hyperparameters: model.hyperparameters)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Checks a --confidence value: in (0, 1].
    static func checkConfidence(_ confidence: Double?) -> String? {
        guard let confidence else { return nil }
        return confidence > 0 && confidence <= 1 ? nil : "--confidence must be in (0, 1], got \(confidence)"
    }

    /// Checks a --min-probability value: in [0, 1).
    static func checkMinProbability(_ floor: Double?) -> String? {
        guard let floor else { return nil }
        return floor >= 0 && floor < 1 ? nil : "--min-probability must be in [0, 1), got \(floor)"
    }

    /// The HAMburger mode for `adapter` with the given settings, else the adapter's defaults.
    static func hamburgerMode(_ adapter: HamburgerAdapter, confidence: Double?, minProbability: Double?) -> DecodingMode {
        .hamburger(confidence: Float(confidence ?? adapter.defaultConfidence),
                   minProbability: Float(minProbability ?? adapter.defaultMinProbability))
    }
}
