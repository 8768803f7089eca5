// Tests for Llama.
