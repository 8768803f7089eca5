import Foundation
import FuzzSupport
import OpenAIAPI

/// Coverage-guided fuzzing of request-body decoding for `/v1/completions` and `/v1/chat/completions`
/// (`RequestBodyDecoding`, the code the handler runs before anything reaches the engine): unknown-key
/// refusal, every accepted form of `prompt`, `stop` and `messages[].content`, and the field-named errors.
///
/// Properties: no crash on any bytes; every refusal is an `APIError` with a 400 status and a
/// non-empty message (the server's promise: bad input gets a clear 4xx).
enum FuzzRequestJSON {
    static func run(_ input: UnsafeRawBufferPointer) {
        let body = Data(input)
        check { () throws(APIError) in _ = try RequestBodyDecoding.completion(body) }
        check { () throws(APIError) in _ = try RequestBodyDecoding.chat(body) }
    }

    static func check(_ decode: () throws(APIError) -> Void) {
        do {
            try decode()
        } catch {
            fuzzCheck(error.status == 400, "a body was refused with \(error.status), not 400: \(error)")
            fuzzCheck(!error.description.isEmpty, "a refusal without a message")
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzRequestJSON.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The entry point SwiftPM links as `main` (see `FuzzDriver`).
@_cdecl("FuzzRequestJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTestOneInput)
}
#else
@main
struct FuzzRequestJSONReplay {
    static func main() { FuzzReplay.main("FuzzRequestJSON", FuzzRequestJSON.run) }
}
#endif
