import Foundation
import Testing
@testable import StructuredOutput

/// Parses a schema written as JSON text.
func schema(_ text: String) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

/// Whether `text` is a complete value of `grammar`.
func accepts(_ grammar: JSONGrammar, _ text: String) -> Bool {
    guard let state = grammar.advanced(grammar.initialState, by: Array(text.utf8)) else { return false }
    return grammar.isAccepting(state)
}

/// Whether `text` can still be extended into a value of `grammar`.
func isPrefix(_ grammar: JSONGrammar, _ text: String) -> Bool {
    grammar.advanced(grammar.initialState, by: Array(text.utf8)) != nil
}

@Suite struct JSONGrammarTests {
    let person = """
    {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
     "tags": {"type": "array", "items": {"enum": ["a", "b\\"c"]}, "maxItems": 2}, "ok": {"type": "boolean"}},
     "required": ["name", "age"], "additionalProperties": false}
    """

    @Test func objectWithRequiredAndOptionalProperties() throws {
        let g = try JSONSchemaCompiler.compile(schema(person))
        #expect(accepts(g, #"{"name": "Ann", "age": 31}"#))
        #expect(accepts(g, #"{"age":7,"name":"","ok":true,"tags":["a","b\"c"]}"#))
        #expect(accepts(g, "{\n  \"name\": \"\\u00e9\\n\",\n  \"age\": 120\n}"))
        #expect(!accepts(g, #"{"name": "Ann"}"#), "age is required")
        #expect(!isPrefix(g, #"{"name": "Ann"}"#), "the brace cannot close before age")
        #expect(!isPrefix(g, #"{"nom""#), "undeclared key with additionalProperties false")
        #expect(!isPrefix(g, #"{"name": "a", "name""#), "a key twice")
        #expect(!isPrefix(g, #"{"age": 121"#), "above maximum")
        #expect(!isPrefix(g, #"{"age": -"#), "below minimum")
        #expect(!isPrefix(g, #"{"age": 1.5"#), "integer has no fraction")
        #expect(!isPrefix(g, #"{"tags": ["a", "a", "#), "maxItems 2")
        #expect(!isPrefix(g, #"{"tags": ["c"#), "enum")
        #expect(!accepts(g, #"{"name": "Ann", "age": 31} "#), "nothing after the value")
    }

    @Test func numberBoundsAllowOnlyCompletableDigits() throws {
        let g = try JSONSchemaCompiler.compile(schema(#"{"type": "integer", "minimum": 10, "maximum": 20}"#))
        #expect(isPrefix(g, "1") && isPrefix(g, "2"))
        #expect(!isPrefix(g, "3"), "no integer in [10, 20] starts with 3")
        #expect(accepts(g, "20") && accepts(g, "10") && !accepts(g, "1"))
        #expect(!isPrefix(g, "21") && !isPrefix(g, "0") && !isPrefix(g, "-"))
        let f = try JSONSchemaCompiler.compile(schema(#"{"type": "number", "minimum": -1.5, "maximum": 0.25}"#))
        #expect(accepts(f, "-1.5") && accepts(f, "0.25") && accepts(f, "-0.75") && accepts(f, "0"))
        #expect(!isPrefix(f, "-1.6") && !isPrefix(f, "0.3") && !isPrefix(f, "-2") && !isPrefix(f, "1"))
        let free = try JSONSchemaCompiler.compile(schema(#"{"type": "number"}"#))
        #expect(accepts(free, "-12.5e+3") && accepts(free, "0") && !isPrefix(free, "01") && !accepts(free, "1."))
    }

    @Test func anyOfRefsAndRecursion() throws {
        let tree = """
        {"$defs": {"node": {"type": "object", "properties": {"v": {"type": ["integer", "null"]},
          "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}},
         "anyOf": [{"$ref": "#/$defs/node"}, {"const": "leaf"}]}
        """
        let g = try JSONSchemaCompiler.compile(schema(tree))
        #expect(accepts(g, #"{"v": null, "kids": [{"v": 1}, {"v": 2, "kids": []}]}"#))
        #expect(accepts(g, #""leaf""#))
        #expect(!isPrefix(g, #""leaves"#))
        #expect(!accepts(g, #"{"kids": []}"#))
    }

    @Test func jsonObjectModeTakesAnyObjectOnly() {
        let g = JSONSchemaCompiler.anyObject()
        #expect(accepts(g, #"{"a": [1, {"b": null}, "x", true, -0.5e3], "c": {}}"#))
        #expect(!isPrefix(g, "[") && !isPrefix(g, "\"") && !isPrefix(g, "1"))
        #expect(!isPrefix(g, "{\"a\": \"\u{1}"), "raw control character in a string")
        #expect(isPrefix(g, "{\"é\": \"日本\""), "UTF-8 in strings and keys")
        #expect(!isPrefix(g, "{" + String(repeating: " ", count: Int(JSONGrammar.maxWhitespaceRun) + 1)), "whitespace runs are capped")
    }

    @Test func unsupportedKeywordsAreNamed() throws {
        for (text, keyword) in [(#"{"type": "string", "pattern": "^a"}"#, "pattern"), (#"{"oneOf": [{"type": "string"}]}"#, "oneOf"),
                                (#"{"type": "object", "properties": {"x": {"type": "string", "minLength": 2}}}"#, "minLength")] {
            #expect(throws: StructuredOutputError.self) { try JSONSchemaCompiler.compile(schema(text)) }
            do {
                _ = try JSONSchemaCompiler.compile(schema(text))
            } catch let error as StructuredOutputError {
                #expect(error.keyword == keyword)
                #expect(error.message.contains(keyword))
            }
        }
        #expect(throws: StructuredOutputError.self) { try JSONSchemaCompiler.compile(schema(##"{"$ref": "#/nowhere/x"}"##)) }
        #expect(throws: StructuredOutputError.self) { try JSONSchemaCompiler.compile(schema(#"{"type": "widget"}"#)) }
    }
}
