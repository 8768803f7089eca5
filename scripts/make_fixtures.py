#!/usr/bin/env python3
"""Golden vectors for hamburger from an independent reference: Hugging Face `transformers`.

What it does
------------
Loads `models/SmolLM2-135M-Instruct.Q4_1.gguf` with `transformers` (`gguf_file=`), which dequantizes
every tensor to float32 and de-permutes the Q/K weights back to the Hugging Face layout, then runs
PyTorch on the CPU in float32 (2 threads, deterministic algorithms) and writes into `Tests/Fixtures/`:

- `tokenizer-ids.json`  {"source", "cases": [{"text", "ids"}]}: >= 200 varied strings encoded with
  `add_special_tokens=False` (no BOS/EOS added); special tokens written in the text (`<|im_start|>`,
  `<|endoftext|>`, ...) are parsed as their special ids.
- `chat-template.json`  {"source", "default_system_message", "cases": [{"messages",
  "add_generation_prompt", "text", "ids"}]}: conversations rendered with the Jinja chat template stored
  in the GGUF (`tokenizer.apply_chat_template`), and their ids.
- `logits.json`  {"source", "cases": [{"name", "kind", "prompt", "prompt_ids", "top5_ids",
  "top5_logits", "float64_max_abs_diff", "logits"}]}: float32 logits (rounded to 5 decimals) at the
  last prompt position over the whole vocabulary (49152), for 2 plain-text and 2 chat-rendered prompts.
  `float64_max_abs_diff` is how far the float32 reference is from the same model run in float64: a
  measure of float32 rounding noise, to set a test tolerance against.
- `greedy.json`  {"source", "max_new_tokens", "eos_id", "cases": [{"messages", "prompt_ids",
  "generated_ids", "text", "finish", "min_top2_margin"}]}: greedy (argmax) continuations of chat
  prompts (template + generation prompt) with a KV-cached `generate` in float32. Generation stops at
  the end-of-sequence id (`finish: "eos"`) or after `max_new_tokens` tokens (`finish: "length"`); the
  EOS token counts towards `max_new_tokens` but is NOT included in `generated_ids`. `min_top2_margin`
  is the smallest gap between the best and second-best logit over the steps: a small one means the
  continuation is sensitive to float rounding.

The tokenizer: transformers builds it from the GGUF's vocabulary and merges, but it does not know the
`tokenizer.ggml.pre = "smollm"` pre-tokenizer and falls back to the plain GPT-2 split. SmolLM2's own
`tokenizer.json` and llama.cpp both isolate every Unicode number (\\p{N}) first, then apply the GPT-2
split. This script restores that (a `Split(\\p{N}, isolated)` before the byte-level GPT-2 split) and
records in the "source" field which fixture strings would have been tokenized differently without it.

Regenerate (from the repository root, after `make setup` has fetched the model):

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install -r scripts/requirements-fixtures.txt
    /work/venv-ref/bin/python scripts/make_fixtures.py

It takes a few minutes on 2 cores. The outputs are deterministic for the pinned versions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import sys
from pathlib import Path

import gguf
import tokenizers
import torch
import transformers
from tokenizers import Regex, pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT_DIR = ROOT / "Tests" / "Fixtures"
MAX_NEW_TOKENS = 40


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------

def tokenizer_texts() -> list[str]:
    """Strings covering every path of the pre-tokenizer and the BPE merges."""
    prose = [
        "Hello world",
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "It was the best of times, it was the worst of times.",
        "What is the capital of France?",
        "Paris is the capital and most populous city of France.",
        "A long time ago in a galaxy far, far away...",
        "To be, or not to be: that is the question.",
        "She sells seashells by the seashore.",
        "Supercalifragilisticexpialidocious",
        "antidisestablishmentarianism",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "The mitochondria is the powerhouse of the cell.",
        "In 1492, Columbus sailed the ocean blue.",
        "Machine learning models learn patterns from data.",
        "HELLO WORLD IN CAPITALS",
        "MiXeD CaSe WoRdS",
        "camelCaseIdentifier and snake_case_identifier and kebab-case-identifier",
        "e-mail: someone@example.com, web: https://example.org/path?q=1&r=2#frag",
        "Dr. Smith arrived at 5 p.m. on Jan. 3rd.",
        "a",
        "I",
        " ",
        "hello",
        " hello",
        "  hello",
        "hello ",
        "Once upon a time, there was a little robot who wanted to learn how to paint.",
        "The answer is: 42.",
        "Q: Why did the chicken cross the road?\nA: To get to the other side.",
    ]
    code = [
        "def add(a, b):\n    return a + b\n",
        "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)\n",
        "for i in range(10):\n\tprint(i)",
        "class Foo(object):\n    def __init__(self):\n        self.x = 1\n",
        "if __name__ == \"__main__\":\n    main()",
        "lambda x: x ** 2 if x > 0 else -x",
        "print(f\"{name!r:>10}\")",
        "let x: [Int] = [1, 2, 3].map { $0 * 2 }",
        "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}",
        "struct Point: Sendable { var x: Double; var y: Double }",
        "guard let value = optional else { return nil }",
        "@MainActor final class ViewModel: ObservableObject {}",
        "{\"name\": \"hamburger\", \"version\": 2, \"tags\": [\"llm\", \"swift\"], \"ok\": true, \"x\": null}",
        "{\n  \"a\": 1,\n  \"b\": [1.5, -2e10, 3E-5]\n}",
        "[]",
        "{}",
        "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
        "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
        "typedef struct { uint8_t d[2]; uint8_t m[2]; uint8_t qs[16]; } block_q4_1;",
        "ptr->next = NULL; x <<= 2; y >>= 3; z != w && a || b;",
        "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
        "<div class=\"main\"><p>Hello</p></div>",
        "$ swift build --build-tests && swift test --filter TokenizationTests",
        "git commit -m 'fix: handle empty input'",
        "x=1;y=2;z=x+y",
        "a[i][j] += b[j][k] * c[k][i];",
        "#!/usr/bin/env bash\nset -euo pipefail\n",
        "// TODO: remove this\n/* block comment */",
        "    indented four spaces",
        "\tindented with a tab",
        "return {...state, count: state.count + 1};",
        "fn main() { println!(\"{:?}\", vec![1, 2, 3]); }",
        "SELECT COUNT(*)::int FROM t;",
    ]
    numbers = [
        "0",
        "7",
        "42",
        "123",
        "1234",
        "12345678901234567890",
        "3.14159265358979",
        "-0.5",
        "+1.0e-10",
        "1,234,567",
        "1.234.567,89",
        "$1,000,000.00",
        "100%",
        "2024-01-15",
        "15/01/2024",
        "12:34:56",
        "2024-01-15T12:34:56Z",
        "0x1F 0b1010 0o777",
        "v1.2.3",
        "IPv4 192.168.0.1",
        "+1 (555) 123-4567",
        "3rd 21st 42nd 100th",
        "1st place, 2nd place",
        "pi is 3.14 and e is 2.718",
        "Call me at 555 1234",
        " 1",
        "  12",
        "a1b2c3",
        "x86_64",
        "H2O and CO2",
        "1e6",
        "99 bottles of beer",
        "٠١٢٣٤٥٦٧٨٩",
        "x1 y22 ٣٤ ²½",
        "Ⅻ Ⅳ ⅷ",
        "①②③",
        "１２３ full-width digits",
        "१२३ devanagari",
        "³⁄₄ cup",
    ]
    whitespace = [
        "two  spaces",
        "three   spaces",
        "many          spaces",
        "tab\tseparated\tvalues",
        "\t\tdouble tab",
        "line one\nline two",
        "line one\n\nline three",
        "\n",
        "\n\n",
        "\n\n\n\n",
        "\r\n",
        "windows\r\nline\r\nendings",
        "trailing space ",
        "trailing spaces   ",
        " leading space",
        "   leading spaces",
        "  ",
        "    ",
        "\t",
        " \t \n ",
        "mixed \t\n whitespace",
        "end with newline\n",
        "word \n next",
        "a \n\n b",
        "x\u00a0y non-breaking space",
        "thin\u2009space and em\u2003space",
        "ideographic\u3000space",
        "zero\u200bwidth",
        "vertical\u000btab and form\u000cfeed",
    ]
    contractions = [
        "it's",
        "don't",
        "they're",
        "we've",
        "I'm",
        "you'll",
        "she'd",
        "IT'S",
        "DON'T",
        "THEY'RE",
        "WE'VE",
        "I'M",
        "YOU'LL",
        "SHE'D",
        "It'S mixed",
        "I'm sure you'll see they're right and it's what we've said she'd do.",
        "'s 't 're 've 'm 'll 'd",
        "'S 'T 'RE 'VE 'M 'LL 'D",
        "rock 'n' roll",
        "'quoted'",
        "the dog's bone",
        "o'clock",
        "y'all'd've",
        "it’s curly apostrophe",
    ]
    punctuation = [
        "!!!",
        "???",
        "...",
        "?!?!",
        "---",
        "***",
        "===",
        "!@#$%^&*()_+-=[]{}|;':\",./<>?`~",
        "Wait... what?!",
        "(parenthetical) [bracketed] {braced} <angled>",
        "\"double quotes\" and 'single quotes'",
        "a -- b --- c",
        "...and then",
        "end.",
        "«guillemets» „German quotes“ “English quotes”",
        "—em dash– en dash",
        "§ ¶ † ‡ • … ‰",
        "~/path/to/file.txt",
        "C:\\Windows\\System32",
        "#hashtag @mention",
        "::",
        "->",
        "=>",
        "!=",
        "<=>",
    ]
    unicode = [
        "café",
        "naïve résumé",
        "Ångström",
        "Crème brûlée à la carte",
        "Ärger über Öl, Straße",
        "señor niño mañana",
        "Dziękuję bardzo",
        "Čeština, ščřžýáíé",
        "Ελληνικά γράμματα",
        "Привет, мир!",
        "Съешь же ещё этих мягких французских булок",
        "你好，世界！",
        "我爱自然语言处理。",
        "日本語のテキストです。",
        "カタカナ ひらがな",
        "한국어 텍스트",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",
        "สวัสดีชาวโลก",
        "Tiếng Việt có dấu",
        "e\u0301 combining acute",
        "a\u0300\u0301\u0302 stacked combining marks",
        "n\u0303o decomposed",
        "Z\u0351\u0337a\u036b\u0334l\u0350g\u0352o",
        "ﬁ ligature",
        "½ ¼ ¾",
        "™ © ®",
        "∑ ∫ √ ∞ ≠ ≤ ≥",
        "α β γ δ ε",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
        "𝟘𝟙𝟚 double-struck digits",
        "\u00e9 vs e\u0301",
        "Ǆ ǅ ǆ",
        "ß ẞ",
        "İstanbul ıi",
        "mixed English and 中文 and русский",
        "\u200d",
        "\ufeffBOM at start",
        "\ufffd replacement char",
        "\u0000null",
        "\u0001\u0002\u001f control chars",
        "\u007f delete",
    ]
    emoji = [
        "😀",
        "😀😃😄",
        "I love pizza 🍕!",
        "👍🏽",
        "👨‍👩‍👧‍👦",
        "🧑‍💻 coding",
        "🏳️‍🌈",
        "🇫🇷🇯🇵🇺🇸",
        "🇬🇧 flag",
        "❤️",
        "❤",
        "✨ sparkle ✨",
        "1️⃣ keycap",
        "#️⃣",
        "🤖🦙🍔",
        "text😀text",
        " 🎉",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland",
        "👩🏿‍🔬",
        "🫠🫡🫥",
    ]
    special = [
        "<|im_start|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<|im_start|>user\nhi<|im_end|>",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n",
        "<|im_start|>assistant\n",
        "Hello<|endoftext|>World",
        "text before <|endoftext|> text after",
        "<|im_start|><|im_end|>",
        "<|im_end|>\n<|im_start|>user\n",
        " <|im_start|> spaced",
        "<|endoftext|><|endoftext|>",
        "<repo_name>hamburger<file_sep>main.swift",
        "<filename>README.md",
        "<gh_stars>100",
        "<issue_start>bug<issue_comment>fixed<issue_closed>",
        "<jupyter_start><jupyter_text>notes<jupyter_code>x = 1<jupyter_output>1<empty_output>",
        "<jupyter_script>",
        "<|im_start",
        "im_start|>",
        "<|IM_START|>",
        "< |im_start| >",
        "<|unknown_token|>",
        "<s> </s> <unk> <pad>",
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    ]
    misc = [
        "",
        "ĠĊ literal byte-level chars",
        "Ġ",
        "Ċ",
        "\\n escaped newline",
        "URL: https://www.example.com/a/b/c.html?x=1&y=2",
        "user@example.com",
        "#FF00AA",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
        "labore et dolore magna aliqua.",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "abababababababababababab",
        "the the the the the",
        "New York, NY 10001, USA",
        "RFC 2616 §14.9",
        "Markdown **bold** _italic_ `code`",
        "# Heading\n\n- item 1\n- item 2\n",
        "| col1 | col2 |\n|------|------|\n| a    | b    |",
        "> quoted line",
        "A\u030a vs \u00c5",
        "Ｆｕｌｌ－ｗｉｄｔｈ Ｌａｔｉｎ",
    ]
    texts = prose + code + numbers + whitespace + contractions + punctuation + unicode + emoji + special + misc
    # A long mixed string exercising many merges at once.
    texts.append("\n".join(prose[:6] + code[:3] + numbers[:6] + unicode[:6] + emoji[:4]))
    seen: set[str] = set()
    unique = []
    for text in texts:
        if text not in seen:
            seen.add(text)
            unique.append(text)
    return unique


CHAT_TEMPLATE_CONVERSATIONS: list[list[dict[str, str]]] = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You are a pirate. Answer like one."},
        {"role": "user", "content": "Where is the treasure?"},
    ],
    [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello! How can I help you today?"},
        {"role": "user", "content": "Tell me a joke about computers."},
    ],
    [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ],
    [{"role": "user", "content": "Traduis en français : « Good morning » 🌞, 你好, Привет!"}],
    [{"role": "user", "content": "Line one\nline two\n\n  indented\tand tabbed"}],
    [{"role": "user", "content": ""}],
]

LOGIT_PROMPTS: list[tuple[str, str, object]] = [
    ("plain-capital", "plain", "The capital of France is"),
    ("plain-code", "plain", "def fibonacci(n):\n    if n < 2:\n        return n\n    return"),
    ("chat-capital", "chat", [{"role": "user", "content": "What is the capital of France?"}]),
    (
        "chat-system-multiturn",
        "chat",
        [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Name a primary color."},
            {"role": "assistant", "content": "Red."},
            {"role": "user", "content": "Name another one."},
        ],
    ),
]

GREEDY_CONVERSATIONS: list[list[dict[str, str]]] = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Write a haiku about the ocean."}],
    [{"role": "user", "content": "What is 12 + 7?"}],
    [{"role": "user", "content": "Write a Python function that reverses a string."}],
    [{"role": "user", "content": "Hi!"}],
    [{"role": "user", "content": "List three fruits."}],
    [{"role": "user", "content": "Explain gravity in one sentence."}],
    [
        {"role": "system", "content": "You are a helpful assistant that answers in French."},
        {"role": "user", "content": "How are you today?"},
    ],
    [
        {"role": "user", "content": "My name is Alice."},
        {"role": "assistant", "content": "Nice to meet you, Alice! How can I help you today?"},
        {"role": "user", "content": "What is my name?"},
    ],
    [{"role": "user", "content": "Translate 'good morning' into Spanish."}],
]


# --------------------------------------------------------------------------------------------------
# Reference
# --------------------------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gguf_metadata(path: Path) -> dict:
    reader = gguf.GGUFReader(str(path))
    wanted = ["tokenizer.ggml.pre", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id",
              "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
              "tokenizer.ggml.padding_token_id", "tokenizer.chat_template"]
    return {key: reader.fields[key].contents() for key in wanted if key in reader.fields}


def smollm_pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """llama.cpp's `smollm`: every \\p{N} isolated, then the GPT-2 byte-level split."""
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])


def write_json(name: str, payload: dict) -> None:
    path = OUT_DIR / name
    with path.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    model_path = MODEL_DIR / MODEL_FILE
    meta = gguf_metadata(model_path)
    if meta.get("tokenizer.ggml.pre") != "smollm":
        sys.exit(f"expected tokenizer.ggml.pre == 'smollm', got {meta.get('tokenizer.ggml.pre')!r}")

    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    default_adds_bos = tokenizer("Hello").input_ids != tokenizer("Hello", add_special_tokens=False).input_ids
    hf_default_pre = str(tokenizer.backend_tokenizer.pre_tokenizer)
    texts = tokenizer_texts()
    hf_default_ids = [tokenizer(t, add_special_tokens=False).input_ids for t in texts]
    tokenizer.backend_tokenizer.pre_tokenizer = smollm_pre_tokenizer()

    versions = (f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
                f"torch {torch.__version__}, gguf {importlib.metadata.version('gguf')}, python {platform.python_version()}")
    model_desc = f"{MODEL_FILE} (sha256 {sha256(model_path)})"
    tok_source = (
        f"Hugging Face AutoTokenizer.from_pretrained(gguf_file=...) on {model_desc}; {versions}. "
        f"Encoded with add_special_tokens=False; the GGUF says tokenizer.ggml.add_bos_token="
        f"{meta.get('tokenizer.ggml.add_bos_token')} and the HF tokenizer's default "
        f"{'adds' if default_adds_bos else 'adds no'} BOS/EOS. bos_id={tokenizer.bos_token_id} "
        f"({tokenizer.bos_token}), eos_id={tokenizer.eos_token_id} ({tokenizer.eos_token}), "
        f"unk_id={tokenizer.unk_token_id}, pad_id={tokenizer.pad_token_id}. The 17 CONTROL tokens "
        f"(ids 0-16) written in text are matched as special ids. Pre-tokenizer: tokenizer.ggml.pre="
        f"'smollm', i.e. Split(\\p{{N}}, isolated) then ByteLevel GPT-2 regex (as SmolLM2's "
        f"tokenizer.json and llama.cpp); transformers' GGUF loader itself falls back to "
        f"{hf_default_pre}, which is overridden here."
    )

    # 1. Tokenizer ids.
    cases = []
    divergent = []
    for text, raw_ids in zip(texts, hf_default_ids):
        ids = tokenizer(text, add_special_tokens=False).input_ids
        if ids != raw_ids:
            divergent.append(text)
        cases.append({"text": text, "ids": ids})
    write_json("tokenizer-ids.json", {
        "source": tok_source,
        "texts_where_plain_gpt2_split_differs": divergent,
        "cases": cases,
    })

    # 2. Chat template.
    template = meta.get("tokenizer.chat_template")
    default_system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    if tokenizer.chat_template != template or default_system not in template:
        sys.exit("the tokenizer's chat template is not the GGUF's, or its default system message changed")
    chat_cases = []
    for messages in CHAT_TEMPLATE_CONVERSATIONS:
        for add_generation_prompt in (True, False):
            if not add_generation_prompt and messages is not CHAT_TEMPLATE_CONVERSATIONS[2]:
                continue
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt,
                                                 tokenize=False)
            ids = tokenizer(text, add_special_tokens=False).input_ids
            chat_cases.append({"messages": messages, "add_generation_prompt": add_generation_prompt,
                               "text": text, "ids": ids})
    write_json("chat-template.json", {
        "source": f"tokenizer.apply_chat_template with the GGUF's tokenizer.chat_template; ids as in "
                  f"tokenizer-ids.json. {versions}",
        "chat_template": template,
        "default_system_message": default_system,
        "cases": chat_cases,
    })

    # 3. Model.
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, dtype=torch.float32)
    model.eval()
    model64 = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, dtype=torch.float32)
    model64 = model64.to(torch.float64).eval()
    model_source = (
        f"transformers AutoModelForCausalLM.from_pretrained(gguf_file=..., dtype=float32) on {model_desc} "
        f"(weights dequantized to float32, Q/K de-permuted to HF layout, tied LM head), attention "
        f"'{model.config._attn_implementation}', torch CPU float32, 2 threads, deterministic; {versions}"
    )

    def render(messages) -> str:
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    logit_cases = []
    with torch.no_grad():
        for name, kind, prompt in LOGIT_PROMPTS:
            text = prompt if kind == "plain" else render(prompt)
            ids = tokenizer(text, add_special_tokens=False).input_ids
            input_ids = torch.tensor([ids])
            logits = model(input_ids).logits[0, -1].to(torch.float32)
            logits64 = model64(input_ids).logits[0, -1]
            diff = (logits.double() - logits64).abs().max().item()
            top = torch.topk(logits, 5)
            logit_cases.append({
                "name": name,
                "kind": kind,
                "prompt": prompt,
                "prompt_ids": ids,
                "top5_ids": top.indices.tolist(),
                "top5_logits": [round(v, 5) for v in top.values.tolist()],
                "float64_max_abs_diff": diff,
                "logits": [round(v, 5) for v in logits.tolist()],
            })
            print(f"{name}: {len(ids)} tokens, top5 {top.indices.tolist()}, |f32-f64| max {diff:.2e}, "
                  f"logits in [{logits.min().item():.2f}, {logits.max().item():.2f}]")
    write_json("logits.json", {
        "source": model_source,
        "position": "last prompt position",
        "rounding": "5 decimals",
        "cases": logit_cases,
    })

    # 4. Greedy continuations.
    eos_id = tokenizer.eos_token_id
    greedy_cases = []
    with torch.no_grad():
        for messages in GREEDY_CONVERSATIONS:
            ids = tokenizer(render(messages), add_special_tokens=False).input_ids
            out = model.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=MAX_NEW_TOKENS,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                repetition_penalty=1.0,
                eos_token_id=eos_id,
                pad_token_id=eos_id,
                use_cache=True,
                output_logits=True,
                return_dict_in_generate=True,
            )
            new = out.sequences[0, len(ids):].tolist()
            margins = []
            for step in out.logits:
                two = torch.topk(step[0].float(), 2).values
                margins.append((two[0] - two[1]).item())
            finish = "eos" if new and new[-1] == eos_id else "length"
            generated = new[:-1] if finish == "eos" else new
            if eos_id in generated:
                sys.exit("EOS inside a continuation: generate did not stop at it")
            text = tokenizer.decode(generated, skip_special_tokens=False)
            greedy_cases.append({
                "messages": messages,
                "prompt_ids": ids,
                "generated_ids": generated,
                "text": text,
                "finish": finish,
                "min_top2_margin": round(min(margins), 5),
            })
            print(f"greedy {messages[-1]['content']!r}: {finish}, {len(generated)} tokens, "
                  f"min margin {min(margins):.4f}: {text!r}")
    write_json("greedy.json", {
        "source": model_source + "; model.generate(do_sample=False, repetition_penalty=1.0, "
                                 "use_cache=True) from the chat-template prompt with generation prompt",
        "max_new_tokens": MAX_NEW_TOKENS,
        "eos_id": eos_id,
        "generated_ids_exclude_eos": True,
        "cases": greedy_cases,
    })


if __name__ == "__main__":
    main()
