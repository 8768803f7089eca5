import XCTest
@testable import Tokenization

/// The streaming detokenizer holds incomplete UTF-8 back and emits exactly what a whole decode would.
final class StreamingDetokenizerTests: XCTestCase {
    private func byteIDs(_ tokenizer: Tokenizer, _ bytes: [UInt8]) -> [Int] {
        bytes.map { Int(tokenizer.byteTokenIDs[Int($0)]) }
    }

    func testAnEmojiSplitAcrossByteTokensIsEmittedWhole() throws {
        let tokenizer = try TinyVocabulary.make()
        let ids = byteIDs(tokenizer, Array("😀".utf8))
        XCTAssertEqual(ids.count, 4)
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        XCTAssertEqual(try ids.map { try stream.append($0) }, ["", "", "", "😀"])
        XCTAssertFalse(stream.hasPendingBytes)
        XCTAssertEqual(stream.finish(), "")
    }

    func testBrokenSequencesBecomeReplacementCharacters() throws {
        let tokenizer = try TinyVocabulary.make()
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        // An emoji's first two bytes, then a letter: the sequence can never complete.
        XCTAssertEqual(try stream.append(contentsOf: byteIDs(tokenizer, [0xF0, 0x9F])), "")
        XCTAssertTrue(stream.hasPendingBytes)
        XCTAssertEqual(try stream.append(TinyVocabulary.id(tokenizer, "a")), "\u{FFFD}a")
        // A lone continuation byte is invalid at once and is not held.
        XCTAssertEqual(try stream.append(contentsOf: byteIDs(tokenizer, [0x80])), "\u{FFFD}")
        // An unfinished sequence at the end is flushed as U+FFFD.
        XCTAssertEqual(try stream.append(contentsOf: byteIDs(tokenizer, [0xE6, 0x97])), "")
        XCTAssertEqual(stream.finish(), "\u{FFFD}")
        XCTAssertFalse(stream.hasPendingBytes)
    }

    func testSpecialTokensStreamAsTextOrAreSkipped() throws {
        let tokenizer = try TinyVocabulary.make()
        let end = TinyVocabulary.id(tokenizer, "<|end|>")
        var shown = StreamingDetokenizer(tokenizer: tokenizer)
        XCTAssertEqual(try shown.append(end), "<|end|>")
        var skipped = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
        XCTAssertEqual(try skipped.append(end), "")
        XCTAssertThrowsError(try skipped.append(tokenizer.vocabularySize))
    }

    func testConcatenatedOutputEqualsWholeDecodeOnRandomBytes() throws {
        let tokenizer = try TinyVocabulary.make()
        // Bytes biased towards UTF-8 lead and continuation bytes, so that valid, truncated and invalid
        // sequences all occur.
        let pool: [UInt8] = [0x61, 0x20, 0xC3, 0xA9, 0xE6, 0x97, 0xA5, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xF4, 0x90, 0xC0, 0xFF, 0x80, 0xBF]
        var generator = SplitMix(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<500 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<24, using: &generator) {
                bytes.append(pool[Int.random(in: 0..<pool.count, using: &generator)])
            }
            let ids = byteIDs(tokenizer, bytes)
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var text = ""
            for id in ids {
                let piece = try stream.append(id)
                text += piece
            }
            text += stream.finish()
            XCTAssertEqual(text, try tokenizer.decode(ids), "bytes \(bytes)")
        }
    }

    func testCompletePrefixLength() {
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xF0, 0x9F, 0x98]), 1)
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0x98, 0x80]), 4)
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xE0, 0x80]), 3)  // overlong: not held
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xED, 0xA0]), 3)  // surrogate: not held
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0xC3]), 0)
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([]), 0)
    }
}

/// A tiny seeded generator (SplitMix64), so the random test is deterministic.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
