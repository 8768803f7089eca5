import Foundation
import Testing
@testable import StructuredOutput

/// A hand-made vocabulary: tokens that span several JSON lexemes, escapes, split UTF-8 and split numbers.
private let spellings: [String?] = [
    nil,  // 0: end of output
    "{", "}", "{\"", "\":", "\",", "\"}", "\"", ":", ",", " ", "\n  ",  // 1...11
    "name", "age", "na", "me", "\":\"", "Ann", " Bo", "\\\"", "\\u00", "e9", "\\n",  // 12...22
    "1", "23", "4", ".5", "-", "0", "12", "}\n", "true", "[", "]", "null",  // 23...35
]
private let extraBytes: [[UInt8]] = [[0xC3], [0xA9], [0xE6, 0x97], [0xA5]]  // é split, 日 split
private let eAcuteLead = Int32(spellings.count), eAcuteTail = eAcuteLead + 1, sunLead = eAcuteLead + 2, sunTail = eAcuteLead + 3

private func vocabulary() -> TokenVocabulary {
    TokenVocabulary(tokenBytes: spellings.map { $0.map { Array($0.utf8) } } + extraBytes.map { Optional($0) }, endTokenIds: [0])
}

private func tokens(_ texts: [String]) -> [Int32] {
    texts.map(id)
}

private func id(_ text: String) -> Int32 { Int32(spellings.firstIndex(of: text)!) }

@Suite struct TokenConstraintTests {
    let schemaText = """
    {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 999}},
     "required": ["name", "age"], "additionalProperties": false}
    """

    private func constraint() throws -> TokenConstraint {
        TokenConstraint(grammar: try JSONSchemaCompiler.compile(schema(schemaText)), vocabulary: vocabulary())
    }

    @Test func maskFollowsTokensThatSpanLexemes() throws {
        let c = try constraint()
        var state = c.initialState
        let start = c.mask(for: state)
        #expect(start.allows(id("{")) && start.allows(id("{\"")) && start.allows(id(" ")), "{, {\" and a blank may open")
        #expect(!start.allows(0) && !start.allows(id("}")) && !start.allows(id("name")), "no end, no }, no bare word")
        for token in tokens(["{\"", "na", "me", "\":\"", "Ann", " Bo", "\\\"", "\\u00", "e9", "\\n", "\","]) {
            #expect(c.mask(for: state).allows(token), "token \(token) should be allowed")
            state = try #require(c.advanced(state, by: token))
        }
        let afterComma = c.mask(for: state)
        #expect(afterComma.allows(id("\"")) && afterComma.allows(id(" ")) && !afterComma.allows(id("}")), "a key must follow, not }")
        state = try #require(c.advanced(state, by: id("\"")))
        let key = c.mask(for: state)
        #expect(key.allows(id("age")) && !key.allows(id("name")) && !key.allows(id("na")), "only the key not yet used: age")
        for token in tokens(["age", "\":", "1", "23"]) { state = try #require(c.advanced(state, by: token)) }
        let digits = c.mask(for: state)
        #expect(!digits.allows(id("4")) && !digits.allows(id("23")), "a fourth digit would exceed 999")
        #expect(!digits.allows(id(".5")), "integer: no fraction")
        #expect(digits.allows(id("}")) && digits.allows(id(" ")), "} (or a blank) closes the number")
        #expect(!digits.allows(id("}\n")), "nothing may follow the root value")
        #expect(!digits.allows(id(",")), "every declared property is used")
        #expect(!digits.allows(0), "not complete before the brace")
        state = try #require(c.advanced(state, by: id("}")))
        let end = c.mask(for: state)
        #expect(end.allowedCount == 1 && end.onlyToken == 0, "only the end token after the root value")
        #expect(c.isAccepting(state))
    }

    @Test func splitUTF8AndEscapesInsideStrings() throws {
        let c = try constraint()
        var state = c.initialState
        for token in tokens(["{\"", "name", "\":\""]) { state = try #require(c.advanced(state, by: token)) }
        var mask = c.mask(for: state)
        #expect(mask.allows(eAcuteLead) && mask.allows(sunLead) && !mask.allows(eAcuteTail) && !mask.allows(sunTail), "lead bytes only")
        state = try #require(c.advanced(state, by: eAcuteLead))
        mask = c.mask(for: state)
        #expect(mask.allowedCount == 2 && mask.allows(eAcuteTail) && mask.allows(sunTail), "after C3 only a continuation byte")
        state = try #require(c.advanced(state, by: eAcuteTail))
        state = try #require(c.advanced(state, by: sunLead))
        mask = c.mask(for: state)
        #expect(mask.allows(sunTail) && !mask.allows(id("\"")) && !mask.allows(id("Ann")), "E6 97 still needs its last byte")
        state = try #require(c.advanced(state, by: sunTail))
        state = try #require(c.advanced(state, by: id("\\u00")))
        mask = c.mask(for: state)
        #expect(mask.allows(id("e9")) && !mask.allows(id("name")) && !mask.allows(id("\"")), "\\u00 needs two hex digits: e9, not 'name' or a quote")
    }

    @Test func numbersSplitAcrossTokens() throws {
        let c = TokenConstraint(grammar: try JSONSchemaCompiler.compile(schema(#"{"type": "number", "minimum": -20, "maximum": 20}"#)), vocabulary: vocabulary())
        var state = c.initialState
        let first = c.mask(for: state)
        #expect(first.allows(id("-")) && first.allows(id("1")) && first.allows(id("12")) && first.allows(id("0")), "-, 1, 12, 0")
        #expect(!first.allows(id("23")), "23 > 20")
        for token in tokens(["-", "12", ".5"]) { state = try #require(c.advanced(state, by: token)) }
        #expect(c.isAccepting(state))
        #expect(c.mask(for: state).allows(0))
        #expect(c.advanced(c.initialState, by: id("23")) == nil)
    }

    @Test func randomWalksAlwaysYieldValidDocuments() throws {
        let c = try constraint()
        var generator = SystemRandomNumberGenerator()
        var finished = 0
        for _ in 0 ..< 200 {
            var state = c.initialState
            var bytes: [UInt8] = []
            for _ in 0 ..< 60 {
                let mask = c.mask(for: state)
                #expect(mask.allowedCount > 0, "a live state always has a way on")
                let allowed = (0 ..< Int32(c.vocabulary.size)).filter { mask.allows($0) }
                // Prefer closing once possible, so that most walks end inside the step budget.
                let token = allowed.contains(0) ? 0 : allowed.randomElement(using: &generator)!
                if token == 0 { break }
                bytes += c.vocabulary.tokenBytes[Int(token)]!
                state = try #require(c.advanced(state, by: token))
            }
            guard c.isAccepting(state) else { continue }
            finished += 1
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], "\(String(decoding: bytes, as: UTF8.self))")
            #expect(object["name"] is String)
            let age = try #require(object["age"] as? Int)
            #expect((0 ... 999).contains(age))
            #expect(Set(object.keys).isSubset(of: ["name", "age"]))
        }
        #expect(finished > 0)
    }

    @Test func cacheReturnsTheSameCompiledConstraint() throws {
        let cache = ConstraintCache(vocabulary: vocabulary())
        let a = try cache.constraint(for: schema(schemaText))
        let b = try cache.constraint(for: schema(schemaText))
        #expect(a === b)
        let object = try cache.constraint(for: nil)
        #expect(object !== a)
        _ = a.mask(for: a.initialState)
        #expect(a.memoisedStateCount == 1)
    }
}
