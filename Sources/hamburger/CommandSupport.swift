import ArgumentParser
import Foundation
import GGUF
import Llama

/// Small shared pieces of the subcommands: loading the model with a readable error, timing, medians.
enum CommandSupport {
    /// Loads the model, turning any file problem into a message that says what to do.
    static func loadModel(_ path: String) throws -> LlamaModel {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("model file '\(path)' not found; run 'make setup' to download it, or pass --model PATH")
        }
        do {
            return try LlamaModel(path: path)
        } catch {
            throw ValidationError("cannot load model '\(path)': \(error)")
        }
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
