/// A hand-written scanner with the exact semantics of the GPT-2 split regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// (alternatives tried in order at each position, as a backtracking regex engine does). It avoids a regex
/// engine for speed and for the lookahead's edge cases: a whitespace run followed by a non-space gives up
/// its last scalar so that the next word keeps its leading space.
enum GPT2Split {
    /// Appends the words of `scalars[range]` to `words`; text outside `range` is invisible (it ends the
    /// lookahead like the end of input).
    static func append(
        _ scalars: [Unicode.Scalar], _ classes: [ScalarClass], _ range: Range<Int>,
        to words: inout [Range<Int>]
    ) {
        let end = range.upperBound
        var position = range.lowerBound
        while position < end {
            let length = matchLength(scalars, classes, at: position, end: end)
            words.append(position..<(position + length))
            position += length
        }
    }

    /// The length (>= 1) of the word that starts at `start`.
    private static func matchLength(
        _ scalars: [Unicode.Scalar], _ classes: [ScalarClass], at start: Int, end: Int
    ) -> Int {
        let first = scalars[start]
        // 's 't 're 've 'm 'll 'd (case-sensitive, ASCII apostrophe only).
        if first == "'" && start + 1 < end {
            let second = scalars[start + 1]
            if second == "s" || second == "t" || second == "m" || second == "d" { return 2 }
            if start + 2 < end {
                let third = scalars[start + 2]
                if (second == "r" && third == "e") || (second == "v" && third == "e") || (second == "l" && third == "l") {
                    return 3
                }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
        var runStart = start
        if first == " " && start + 1 < end && classes[start + 1] != .whitespace { runStart = start + 1 }
        let runClass = classes[runStart]
        if runClass != .whitespace {
            var position = runStart + 1
            while position < end && classes[position] == runClass { position += 1 }
            return position - start
        }
        // `\s+(?!\S)` then `\s+`: a whitespace run; if a non-space follows, leave it the run's last scalar.
        var position = start + 1
        while position < end && classes[position] == .whitespace { position += 1 }
        if position < end && position - start > 1 { return position - start - 1 }
        return position - start
    }
}
