// Tests for Tokenization.
