// Tests for OpenAIAPI.
