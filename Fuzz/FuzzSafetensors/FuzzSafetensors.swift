import Foundation
import FuzzSupport
import Hamburger

/// Coverage-guided fuzzing of the safetensors reader the HAMburger adapter loads its weights with: the
/// 8-byte header length, the JSON header, dtypes, shapes and data offsets.
///
/// Properties: no crash on any bytes; every tensor it accepts lies inside the data, and reading it as
/// floats with its own shape either succeeds with that many values or throws.
enum FuzzSafetensors {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let file = try? SafetensorsFile(path: "<fuzz>", bytes: Data(input)) else { return }
        for (name, info) in file.tensors.sorted(by: { $0.key < $1.key }) {
            fuzzCheck(info.begin <= info.end && info.end <= input.count, "tensor \(name) at \(info.begin)..<\(info.end) outside \(input.count) bytes")
            guard info.elementCount <= 1 << 16, let values = try? file.floats(name, shape: info.shape) else { continue }
            fuzzCheck(values.count == info.elementCount, "tensor \(name) read \(values.count) values for shape \(info.shape)")
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzSafetensors.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The entry point SwiftPM links as `main` (see `FuzzDriver`).
@_cdecl("FuzzSafetensors_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTestOneInput)
}
#else
@main
struct FuzzSafetensorsReplay {
    static func main() { FuzzReplay.main("FuzzSafetensors", FuzzSafetensors.run) }
}
#endif
