import Testing
@testable import OpenAIAPI

/// `StopStringMatcher` fed the same text in every possible way: whatever the token boundaries, the
/// emitted text is the text before the first stop string, and nothing emitted is ever taken back.
@Suite struct StopStringMatcherTests {
    /// Feeds `pieces` one after another; returns every `feed` result, the flush result and the matcher.
    func run(_ stops: [String], _ pieces: [String]) -> (emitted: [String], flushed: String, matcher: StopStringMatcher) {
        var matcher = StopStringMatcher(stops: stops)
        let emitted = pieces.map { matcher.feed($0) }
        let flushed = matcher.flush()
        return (emitted, flushed, matcher)
    }

    /// Reference for text fed one scalar at a time: the stop occurrence that ends first (the longest
    /// of those ending there) cuts the text; nil when no stop string occurs.
    func referenceCut(_ text: String, stops: [String]) -> (prefix: String, stop: String)? {
        let scalars = Array(text.unicodeScalars)
        var best: (end: Int, start: Int, stop: String)?
        for stop in stops where !stop.isEmpty {
            let needle = Array(stop.unicodeScalars)
            guard needle.count <= scalars.count else { continue }
            for start in 0...(scalars.count - needle.count) where Array(scalars[start..<start + needle.count]) == needle {
                let end = start + needle.count
                if let current = best, end > current.end || (end == current.end && start >= current.start) { break }
                best = (end, start, stop)
                break
            }
        }
        guard let best else { return nil }
        return (String(String.UnicodeScalarView(scalars[0..<best.start])), best.stop)
    }

    /// `text` cut into pieces of `size` characters.
    func pieces(_ text: String, size: Int) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            out.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return out
    }

    @Test func textWithoutStopsPassesThroughAtOnce() {
        var matcher = StopStringMatcher(stops: [])
        #expect(matcher.feed("Hello") == "Hello")
        #expect(matcher.feed(", world") == ", world")
        #expect(matcher.flush() == "")
        #expect(!matcher.isStopped)
        #expect(matcher.matchedStop == nil)
    }

    @Test func emptyStopStringsAreIgnored() {
        var matcher = StopStringMatcher(stops: ["", ""])
        #expect(matcher.feed("abc") == "abc")
        #expect(!matcher.isStopped)
    }

    @Test func stopInsideOneFeedCutsTheTextBeforeIt() {
        let (emitted, flushed, matcher) = run(["STOP"], ["Hello STOP and more"])
        #expect(emitted == ["Hello "])
        #expect(flushed == "")
        #expect(matcher.isStopped)
        #expect(matcher.matchedStop == "STOP")
    }

    @Test func stopSplitAcrossTwoFeedsAtEveryBoundary() {
        let text = "The answer is 42.\n\nUser: thanks"
        let stop = "\n\nUser:"
        for cut in 0...text.unicodeScalars.count {
            let scalars = Array(text.unicodeScalars)
            let a = String(String.UnicodeScalarView(scalars[0..<cut]))
            let b = String(String.UnicodeScalarView(scalars[cut...]))
            let (emitted, flushed, matcher) = run([stop], [a, b])
            #expect(emitted.joined() == "The answer is 42.", "cut at \(cut)")
            #expect(flushed == "", "cut at \(cut)")
            #expect(matcher.isStopped, "cut at \(cut)")
            #expect(matcher.matchedStop == stop)
        }
    }

    @Test func stopSplitAcrossThreeFeedsAtEveryPairOfBoundaries() {
        let scalars = Array("abc<|end|>def")
        for i in 0...scalars.count {
            for j in i...scalars.count {
                let pieces = [String(scalars[0..<i]), String(scalars[i..<j]), String(scalars[j...])]
                let (emitted, flushed, matcher) = run(["<|end|>"], pieces)
                #expect(emitted.joined() == "abc", "cuts \(i), \(j)")
                #expect(flushed == "", "cuts \(i), \(j)")
                #expect(matcher.isStopped, "cuts \(i), \(j)")
            }
        }
    }

    @Test func everyScalarFedAloneMatchesTheReference() {
        let cases: [(String, [String])] = [
            ("one two three four", ["three", "four"]),
            ("aaab", ["aab"]),
            ("xxyxxyxxz", ["xxyxxz", "xxz"]),
            ("abcd", ["abcd", "bc"]),
            ("no match here", ["zzz", "q"]),
            ("ends with a partial sto", ["stop"]),
        ]
        for (text, stops) in cases {
            let (emitted, flushed, matcher) = run(stops, text.unicodeScalars.map { String($0) })
            if let cut = referenceCut(text, stops: stops) {
                #expect(emitted.joined() == cut.prefix, "\(text) / \(stops)")
                #expect(flushed == "")
                #expect(matcher.matchedStop == cut.stop, "\(text) / \(stops)")
            } else {
                #expect(emitted.joined() + flushed == text, "\(text) / \(stops)")
                #expect(!matcher.isStopped)
            }
        }
    }

    @Test func heldBackTextIsReleasedAtFlush() {
        var matcher = StopStringMatcher(stops: ["STOP"])
        #expect(matcher.feed("Hello ST") == "Hello ")
        #expect(matcher.feed("O") == "")
        #expect(matcher.flush() == "STO")
        #expect(!matcher.isStopped)
    }

    @Test func heldBackTextIsReleasedOnceItCannotStartAStop() {
        var matcher = StopStringMatcher(stops: ["STOP"])
        #expect(matcher.feed("ST") == "")
        #expect(matcher.feed("AR") == "STAR")
        // A second possible start later in the pending text is still held back.
        #expect(matcher.feed("S STO") == "S ")
        #expect(matcher.feed("RM") == "STORM")
        #expect(!matcher.isStopped)
    }

    @Test func heldBackOverlapKeepsTheLongestPossibleStart() {
        // After "aa" both "a" and "aa" could begin "aab": the longer one is held.
        var matcher = StopStringMatcher(stops: ["aab"])
        #expect(matcher.feed("xaa") == "x")
        #expect(matcher.feed("a") == "a")   // "aaa": only the last "aa" can still begin "aab"
        #expect(matcher.feed("b") == "")
        #expect(matcher.isStopped)
    }

    @Test func nothingEmittedIsEverRetracted() {
        // Whatever the split, the running emitted text is always a prefix of the final answer, so
        // no part of the stop string is ever streamed.
        let text = "Hello wor<STOP>ld and beyond"
        let answer = "Hello wor"
        for size in 1...8 {
            var matcher = StopStringMatcher(stops: ["<STOP>"])
            var soFar = ""
            for piece in pieces(text, size: size) {
                soFar += matcher.feed(piece)
                #expect(answer.hasPrefix(soFar), "piece size \(size): emitted \(soFar)")
            }
            soFar += matcher.flush()
            #expect(soFar == answer, "piece size \(size)")
        }
    }

    @Test func earliestStopWinsWhenSeveralCompleteInOneFeed() {
        let (emitted, _, matcher) = run(["world", "lo"], ["Hello world"])
        #expect(emitted == ["Hel"])
        #expect(matcher.matchedStop == "lo")
        let (emitted2, _, matcher2) = run(["lo", "Hel"], ["Hello"])
        #expect(emitted2 == [""])
        #expect(matcher2.matchedStop == "Hel")
    }

    @Test func severalStopsEachStopOnItsOwn() {
        for (stop, prefix) in [("\n", "line one"), ("END", "a"), ("###", "x")] {
            let text = prefix + stop + "tail"
            let (emitted, flushed, matcher) = run(["\n", "END", "###", "never"], text.map { String($0) })
            #expect(emitted.joined() == prefix)
            #expect(flushed == "")
            #expect(matcher.matchedStop == stop)
        }
    }

    @Test func feedsAfterTheStopEmitNothing() {
        var matcher = StopStringMatcher(stops: ["."])
        #expect(matcher.feed("Done. More") == "Done")
        #expect(matcher.feed("text") == "")
        #expect(matcher.flush() == "")
        #expect(matcher.isStopped)
    }

    @Test func unicodeStopsMatchAcrossScalarBoundaries() {
        // A two-scalar emoji (thumbs up + skin tone) split between feeds.
        let stop = "👍🏽"
        let (emitted, _, matcher) = run([stop], ["ok 👍", "🏽 done"])
        #expect(emitted.joined() == "ok ")
        #expect(matcher.matchedStop == stop)

        // Multi-byte characters before the stop are never cut or altered, wherever the split falls.
        let text = "Grüße, 世界 → fin"
        for cut in 0...text.count {
            let (emitted, flushed, _) = run(["→"], [String(text.prefix(cut)), String(text.dropFirst(cut))])
            #expect(emitted.joined() + flushed == "Grüße, 世界 ", "cut at \(cut)")
        }

        // A text that shares only the first scalar is held back, then released intact.
        var partial = StopStringMatcher(stops: ["👍🏽"])
        #expect(partial.feed("a👍") == "a")
        #expect(partial.feed("🎉") == "👍🎉")
        #expect(!partial.isStopped)
    }
}
