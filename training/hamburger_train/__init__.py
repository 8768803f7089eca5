"""HAMburger trainer for SmolLM2-135M-Instruct (see ../../shared/design/HAMBURGER.md and ../FORMAT.md).

Modules:
- config: hyper-parameters of the adapter and of training.
- llama: a small functional Llama forward (explicit masks, jumping RoPE positions, merge-only LoRA).
- base: loading the frozen base from the GGUF file (dequantized) and its sha256.
- adapter: compositional embedder, micro-step decoder, stop head, merge-only LoRA.
- prompts / qa: the prompt set and the QA evaluation set (written here, licenses in DATA.md).
- datagen: self-distillation responses with per-token entropies.
- segment: entropy segmentation into groups of <= K tokens.
- train: the training loop (time budget, resumable checkpoints).
- export: the safetensors + JSON format the Swift engine loads (FORMAT.md).
- generate: the greedy reference decoder and the parity fixture.
- evaluate: the quality report.
"""
