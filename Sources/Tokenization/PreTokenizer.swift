/// The rule that cuts text into words before BPE runs on each word separately, named as in GGUF's
/// `tokenizer.ggml.pre`. Merges never cross a word boundary, so this rule must match the one the vocabulary
/// was trained with exactly, or ids drift from the reference.
///
/// - `gpt2`: the GPT-2 split `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
/// - `digitsThenGPT2` (`smollm`, `starcoder`, `refact`): every `\p{N}` scalar first becomes a word of its
///   own, then the GPT-2 split runs on the text between digits (as llama.cpp's pre-tokenizer table and the
///   Hugging Face `Digits(individual_digits) + ByteLevel` sequence do).
public enum PreTokenizer: Sendable, Equatable {
    case gpt2
    case digitsThenGPT2

    /// The `tokenizer.ggml.pre` names accepted by `init(name:)`.
    public static let supportedNames = ["gpt2", "smollm", "starcoder", "refact"]

    /// The pre-tokenizer for a `tokenizer.ggml.pre` name; an unknown name throws rather than guessing.
    public init(name: String) throws(TokenizationError) {
        switch name {
        case "gpt2": self = .gpt2
        case "smollm", "starcoder", "refact": self = .digitsThenGPT2
        default: throw .unknownPreTokenizer(name: name)
        }
    }

    /// The words of `scalars`, as half-open index ranges that together cover it in order.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(ScalarClass.init)
        var words: [Range<Int>] = []
        words.reserveCapacity(scalars.count / 3 + 1)
        switch self {
        case .gpt2:
            GPT2Split.append(scalars, classes, 0..<scalars.count, to: &words)
        case .digitsThenGPT2:
            var start = 0
            for index in classes.indices where classes[index] == .number {
                if start < index { GPT2Split.append(scalars, classes, start..<index, to: &words) }
                words.append(index..<(index + 1))
                start = index + 1
            }
            if start < scalars.count { GPT2Split.append(scalars, classes, start..<scalars.count, to: &words) }
        }
        return words
    }
}
