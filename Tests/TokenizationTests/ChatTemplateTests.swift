import Foundation
import XCTest
import TestSupport
@testable import Tokenization

/// `ChatTemplate` read from the model against transformers' `apply_chat_template`, and its refusal of
/// templates it does not know.
final class ChatTemplateTests: XCTestCase {
    func testTheModelTemplateIsChatMLWithSmolLMsDefaultSystemMessage() throws {
        let template = try ModelTokenizer.get().chatTemplate
        XCTAssertEqual(
            template.format, .chatML(defaultSystemMessage: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        )
        let fixture = try TestPaths.loadFixture(ChatTemplateFixture.self, "chat-template.json")
        XCTAssertEqual(template.format, .chatML(defaultSystemMessage: fixture.default_system_message))
        XCTAssertEqual(try ChatTemplate(jinja: fixture.chat_template), template)
    }

    func testRenderedTextAndIDsMatchTheFixture() throws {
        let loaded = try ModelTokenizer.get()
        let fixture = try TestPaths.loadFixture(ChatTemplateFixture.self, "chat-template.json")
        XCTAssertFalse(fixture.cases.isEmpty)
        for item in fixture.cases {
            let text = loaded.chatTemplate.render(item.messages, addGenerationPrompt: item.add_generation_prompt)
            XCTAssertEqual(text, item.text)
            XCTAssertEqual(loaded.tokenizer.encode(text), item.ids, text.debugDescription)
        }
    }

    func testDefaultSystemMessageOnlyWhenTheFirstMessageIsNotSystem() {
        let template = ChatTemplate(format: .chatML(defaultSystemMessage: "Be kind."))
        XCTAssertEqual(
            template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
            "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        )
        XCTAssertEqual(
            template.render([ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U")], addGenerationPrompt: false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
        )
        // Jinja's loop never runs for no messages, so no default system message either.
        XCTAssertEqual(template.render([], addGenerationPrompt: true), "<|im_start|>assistant\n")
    }

    func testEscapedNewlinesAndPlainChatMLAreRecognised() throws {
        let escaped = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nHello there<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        XCTAssertEqual(try ChatTemplate(jinja: escaped).format, .chatML(defaultSystemMessage: "Hello there"))
        let plain = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        XCTAssertEqual(try ChatTemplate(jinja: plain).format, .chatML(defaultSystemMessage: nil))
    }

    func testUnknownTemplatesAreRefused() throws {
        let llama3 = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"
        let fixture = try TestPaths.loadFixture(ChatTemplateFixture.self, "chat-template.json")
        // A ChatML-looking template with extra logic is not guessed at either.
        let extended = fixture.chat_template.replacingOccurrences(of: "{% endfor %}", with: "{% if tools %}{{ tools }}{% endif %}{% endfor %}")
        for template in [llama3, extended, "", "<|im_start|>"] {
            XCTAssertThrowsError(try ChatTemplate(jinja: template)) { error in
                guard case .unsupportedChatTemplate = error as? TokenizationError else {
                    return XCTFail("expected unsupportedChatTemplate, got \(error)")
                }
            }
        }
        var metadata = try ModelTokenizer.get().metadata
        metadata["tokenizer.chat_template"] = .string(llama3)
        XCTAssertThrowsError(try ChatTemplate(ggufMetadata: metadata))
        metadata["tokenizer.chat_template"] = nil
        XCTAssertThrowsError(try ChatTemplate(ggufMetadata: metadata)) { error in
            XCTAssertEqual(error as? TokenizationError, .missingMetadata(key: "tokenizer.chat_template"))
        }
    }
}
