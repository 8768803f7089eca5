import XCTest
@testable import Tokenization

/// The hand-written GPT-2 split and the digit pre-split, word by word, on the regex's edge cases.
final class PreTokenizerTests: XCTestCase {
    private func words(_ text: String, _ preTokenizer: PreTokenizer = .gpt2) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return preTokenizer.split(scalars).map { range in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
    }

    func testLettersNumbersAndPunctuationRuns() {
        XCTAssertEqual(words("Hello world"), ["Hello", " world"])
        XCTAssertEqual(words("hello!!! ok?"), ["hello", "!!!", " ok", "?"])
        XCTAssertEqual(words("x=42;"), ["x", "=", "42", ";"])
        XCTAssertEqual(words("café naïve 日本語"), ["café", " naïve", " 日本語"])
        XCTAssertEqual(words("Ⅻ ½"), ["Ⅻ", " ½"])
        XCTAssertEqual(words(""), [])
    }

    func testContractionsAreCaseSensitive() {
        XCTAssertEqual(words("it's we'll they've I'd"), ["it", "'s", " we", "'ll", " they", "'ve", " I", "'d"])
        XCTAssertEqual(words("IT'S"), ["IT", "'", "S"])
        XCTAssertEqual(words(" 'll"), [" '", "ll"])
        XCTAssertEqual(words("''s"), ["''", "s"])
    }

    func testWhitespaceRunsLeaveTheirLastSpaceToTheNextWord() {
        XCTAssertEqual(words("a  b"), ["a", " ", " b"])
        XCTAssertEqual(words("a    b"), ["a", "   ", " b"])
        XCTAssertEqual(words("a   "), ["a", "   "])
        XCTAssertEqual(words("\n\nword"), ["\n", "\n", "word"])
        XCTAssertEqual(words("x \n y"), ["x", " \n", " y"])
        XCTAssertEqual(words("\u{A0}x"), ["\u{A0}", "x"])
        XCTAssertEqual(words("\t\t!"), ["\t", "\t", "!"])
    }

    func testDigitsAreSplitFirstForSmolLM() {
        XCTAssertEqual(words("x  123"), ["x", " ", " 123"])
        XCTAssertEqual(words("x  123", .digitsThenGPT2), ["x", "  ", "1", "2", "3"])
        XCTAssertEqual(words("a12b", .digitsThenGPT2), ["a", "1", "2", "b"])
        XCTAssertEqual(words("v 2.0", .digitsThenGPT2), ["v", " ", "2", ".", "0"])
        XCTAssertEqual(words("\n\n1", .digitsThenGPT2), ["\n\n", "1"])
        XCTAssertEqual(words("½ ²", .digitsThenGPT2), ["½", " ", "²"])
    }
}
