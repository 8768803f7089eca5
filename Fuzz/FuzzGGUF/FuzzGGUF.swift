import FuzzSupport
import GGUF
import Tokenization

/// Coverage-guided fuzzing of the GGUF reader and what start-up reads from it next (the tokenizer's
/// vocabulary and merges): a truncated or corrupted model file must be a thrown error, never a crash
/// or an out-of-bounds read.
///
/// Properties: no crash, no sanitizer report; every tensor the reader accepts lies inside the file.
enum FuzzGGUF {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let file = try? GGUFFile(bytes: Array(input)) else { return }
        for tensor in file.tensors {
            let data = file.tensorData(tensor)
            fuzzCheck(data.count <= input.count, "tensor \(tensor.name) has \(data.count) bytes in a \(input.count)-byte file")
            // Touch the first and last byte: the sanitizer flags a view outside the mapping.
            if let first = data.first, let last = data.last { _ = first &+ last }
        }
        _ = file.architecture
        _ = try? Tokenizer(gguf: file)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzGGUF.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The entry point SwiftPM links as `main` (see `FuzzDriver`).
@_cdecl("FuzzGGUF_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTestOneInput)
}
#else
@main
struct FuzzGGUFReplay {
    static func main() { FuzzReplay.main("FuzzGGUF", FuzzGGUF.run) }
}
#endif
