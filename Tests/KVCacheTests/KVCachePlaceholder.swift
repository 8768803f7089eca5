// Tests for KVCache.
