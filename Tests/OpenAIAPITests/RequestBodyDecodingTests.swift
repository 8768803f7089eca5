import Foundation
import Testing
import OpenAIAPI

/// `RequestBodyDecoding`, the public entry the handler and the JSON fuzz target share: an unsupported
/// key is refused by name before decoding, a good body decodes, and bytes that are not JSON (the fuzz
/// seeds' mutations) are a 400, never a crash.
@Suite struct RequestBodyDecodingTests {
    @Test func completionBodyDecodes() throws {
        let body = try RequestBodyDecoding.completion(Data(#"{"prompt":"Hi","max_tokens":3,"stop":["\n"]}"#.utf8))
        #expect(body.maxTokens == 3)
    }

    @Test func chatBodyDecodes() throws {
        let body = try RequestBodyDecoding.chat(Data(#"{"messages":[{"role":"user","content":"Hi"}],"seed":4}"#.utf8))
        #expect(body.messages.count == 1)
    }

    @Test func unsupportedKeyIsRefusedByName() {
        #expect(throws: APIError.self) { try RequestBodyDecoding.completion(Data(#"{"prompt":"x","best_of":2}"#.utf8)) }
        do {
            _ = try RequestBodyDecoding.chat(Data(#"{"messages":[],"tools":[]}"#.utf8))
            Issue.record("a body with 'tools' was accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.param == "tools")
        }
    }

    @Test(arguments: ["", "{", "[1,2]", "null", "\u{0}\u{ff}", #"{"prompt":"#, #"{"messages":[{"role":1}]}"#])
    func malformedBytesAreA400(_ text: String) {
        let data = Data(text.utf8)
        do {
            _ = try RequestBodyDecoding.completion(data)
            Issue.record("'\(text)' decoded as a completion")
        } catch {
            #expect(error.status == 400)
        }
        do {
            _ = try RequestBodyDecoding.chat(data)
            Issue.record("'\(text)' decoded as a chat")
        } catch {
            #expect(error.status == 400)
        }
    }
}
