/// The chat prompts `hamburger bench --decoding hamburger|both` runs in every mode: HAMburger's tokens
/// per step depend on how sure the model is of its text, so the benchmark uses ordinary requests
/// rather than random token ids. Request i of a level takes prompt i modulo the count.
enum BenchPrompts {
    static let userMessages = [
        "What is the capital of France?",
        "Write a haiku about the sea.",
        "Explain photosynthesis in one sentence.",
        "Give me three tips for staying focused while studying.",
        "What is 17 + 25?",
        "Write a Python function that reverses a string.",
        "Translate to French: Good morning, how are you?",
        "Tell me a short story about a brave little mouse.",
        "List the planets of the solar system.",
        "Why is the sky blue?",
        "What are the health benefits of drinking water?",
        "Describe a sunset over the mountains.",
        "How do I make a cup of tea?",
        "What is the difference between weather and climate?",
        "Write a short poem about autumn leaves.",
        "Explain what a computer virus is to a child.",
    ]
}
