import Foundation

/// The body checks a completion or chat request passes before anything reaches the engine: a key this
/// server does not support is refused, then the JSON is decoded with errors that name the field. Public
/// so the fuzz target (Fuzz/FuzzRequestJSON) runs exactly what the handler runs on untrusted bytes.
public enum RequestBodyDecoding {
    /// A `/v1/completions` body, or the 400 that says what is wrong with it.
    public static func completion(_ body: Data) throws(APIError) -> CompletionRequest {
        try JSONCoding.refuseUnsupportedKeys(in: body, accepted: Set(CompletionRequest.CodingKeys.allCases.map(\.rawValue)))
        return try JSONCoding.decode(CompletionRequest.self, from: body)
    }

    /// A `/v1/chat/completions` body, or the 400 that says what is wrong with it.
    public static func chat(_ body: Data) throws(APIError) -> ChatCompletionRequest {
        try JSONCoding.refuseUnsupportedKeys(in: body, accepted: Set(ChatCompletionRequest.CodingKeys.allCases.map(\.rawValue)))
        return try JSONCoding.decode(ChatCompletionRequest.self, from: body)
    }
}
