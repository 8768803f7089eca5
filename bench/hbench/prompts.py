"""The fixed prompt set. Every prompt starts with a different word so that prefix reuse (llama-server
keeps each slot's previous prompt in its KV and skips the common prefix; ours has a prefix cache)
cannot favour either server."""
from __future__ import annotations

DECODE_PROMPTS: tuple[str, ...] = (
    "Explain why the sky is blue in a few sentences.",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "List five practical tips for learning a new programming language.",
    "Describe the water cycle to a ten year old child.",
    "Summarize the main causes of the French Revolution.",
    "Give me a recipe for a simple vegetable soup.",
    "Compare trains and airplanes for travelling across Europe.",
    "What are the benefits of regular exercise for mental health?",
    "Translate the idea of 'opportunity cost' into everyday language with an example.",
    "Suggest a weekend itinerary for a first visit to a mountain village.",
    "How does a refrigerator keep food cold?",
    "Outline a plan to organise a small community garden.",
    "Tell me about the life cycle of a butterfly.",
    "Why do people enjoy music? Give several reasons.",
    "Introduce the basic rules of chess for a beginner.",
    "Draft a polite email asking a colleague to review a document.",
)

# Words that are single tokens for the SmolLM2 tokenizer when preceded by a space; used to build
# prefill prompts of a known length (the servers report the exact prompt length in `usage`).
_FILLER = (
    "the river runs past old stone houses while children play near the bridge and their parents talk "
    "about work weather food and the long summer days that come after a cold wet spring in the north"
).split()

_OPENERS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet")


def prefill_prompt(index: int, approx_tokens: int) -> str:
    """A prompt of about `approx_tokens` tokens whose first word differs for every index (no reuse of
    a cached prefix between measurements)."""
    opener = f"{_OPENERS[index % len(_OPENERS)]} {index}:"
    words = [opener]
    # The opener is about 4 tokens; every filler word is one token.
    for i in range(max(approx_tokens - 4, 1)):
        words.append(_FILLER[(i + index) % len(_FILLER)])
    return " ".join(words)
