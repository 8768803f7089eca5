/// Renders a conversation into the prompt text a chat model was trained on, reproducing the model's own
/// Jinja `tokenizer.chat_template` exactly rather than interpreting Jinja: the template string is
/// recognised as one of the known ChatML shapes (optionally with a default system message, as SmolLM2's
/// is) and anything else is refused with `TokenizationError.unsupportedChatTemplate`.
///
/// ChatML renders each message as `<|im_start|>{role}\n{content}<|im_end|>\n`; with a default system
/// message, a conversation whose first message is not `system` is preceded by
/// `<|im_start|>system\n{default}<|im_end|>\n`; `addGenerationPrompt` appends `<|im_start|>assistant\n`.
public struct ChatTemplate: Sendable, Equatable {
    /// The template families this type renders; each case reproduces one Jinja source exactly.
    public enum Format: Sendable, Equatable {
        /// ChatML; `defaultSystemMessage` is inserted when the first message is not a system message.
        case chatML(defaultSystemMessage: String?)
    }

    public let format: Format

    /// A template of a known format, without Jinja source (for tests and callers that know the model).
    public init(format: Format) {
        self.format = format
    }

    /// Recognises a Jinja chat template (as stored in `tokenizer.chat_template`). Throws
    /// `unsupportedChatTemplate` for any template that is not exactly a known shape.
    public init(jinja template: String) throws(TokenizationError) {
        // Jinja string literals may write a newline as `\n`; the two spellings render the same.
        let normalized = template.replacingEscapedNewlines().trimmingOuterWhitespace()
        if normalized == Self.chatMLJinja(defaultSystemMessage: nil) {
            self.format = .chatML(defaultSystemMessage: nil)
            return
        }
        let prefix = Self.defaultSystemPrefix, suffix = Self.defaultSystemSuffix + Self.messageLoopBody
        if normalized.count >= prefix.count + suffix.count, normalized.hasPrefix(prefix), normalized.hasSuffix(suffix) {
            let message = String(normalized.dropFirst(prefix.count).dropLast(suffix.count))
            // The message must be plain literal text: no quote ending the literal, no escapes, no Jinja.
            if !message.contains(where: { "'\\{}".contains($0) }), !message.contains("<|") {
                self.format = .chatML(defaultSystemMessage: message)
                return
            }
        }
        throw .unsupportedChatTemplate(excerpt: String(template.prefix(80)))
    }

    /// The prompt text for `messages`; with `addGenerationPrompt`, ends with the opening of an assistant
    /// turn so the model writes the reply.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        switch format {
        case .chatML(let defaultSystemMessage):
            var text = ""
            if let defaultSystemMessage, let first = messages.first, first.role != "system" {
                text += "<|im_start|>system\n\(defaultSystemMessage)<|im_end|>\n"
            }
            for message in messages {
                text += "<|im_start|>\(message.role)\n\(message.content)<|im_end|>\n"
            }
            if addGenerationPrompt { text += "<|im_start|>assistant\n" }
            return text
        }
    }

    // The Jinja source of the recognised shapes, as Hugging Face and llama.cpp's converter write them.
    private static let defaultSystemPrefix =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    private static let defaultSystemSuffix = "<|im_end|>\n' }}{% endif %}"
    private static let messageLoopBody =
        "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    private static func chatMLJinja(defaultSystemMessage: String?) -> String {
        guard let defaultSystemMessage else { return "{% for message in messages %}" + messageLoopBody }
        return defaultSystemPrefix + defaultSystemMessage + defaultSystemSuffix + messageLoopBody
    }
}

extension String {
    fileprivate func replacingEscapedNewlines() -> String {
        var result = ""
        var iterator = makeIterator()
        while let character = iterator.next() {
            if character == "\\" {
                if let following = iterator.next() {
                    if following == "n" { result.append("\n") } else { result.append(character); result.append(following) }
                } else {
                    result.append(character)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }

    fileprivate func trimmingOuterWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
