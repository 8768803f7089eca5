// Llama tests arrive with the golden fixtures.
