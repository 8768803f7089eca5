/// The state of a JSON number being read, with what `minimum`/`maximum` need: the magnitude read so
/// far. A digit is allowed only if some completion of the number can still land inside the bounds,
/// so the automaton never walks into a number it cannot finish. Digits are capped (15 integer, 12
/// fraction, 3 exponent) so that a model cannot spin digits forever.
struct NumberCursor: Hashable, Sendable {
    enum Phase: UInt8, Hashable, Sendable {
        case start, minus, zero, integer, dot, fraction, exponent, exponentSign, exponentDigits
    }

    var node: Int32
    var phase: Phase = .start
    var negative = false
    /// Integer-part magnitude (tracked only when bounded).
    var integerPart: Double = 0
    /// Fraction digits as an integer, and how many (tracked only when bounded; count always).
    var fractionValue: Double = 0
    var digits: UInt8 = 0

    static let maxIntegerDigits: UInt8 = 15, maxFractionDigits: UInt8 = 12, maxExponentDigits: UInt8 = 3

    /// Whether the number read so far is a complete JSON number within the bounds.
    func isComplete(integer: Bool, minimum: Double?, maximum: Double?) -> Bool {
        switch phase {
        case .zero, .integer, .fraction, .exponentDigits:
            guard minimum != nil || maximum != nil else { return true }
            let value = signed(integerPart + fractionValue / pow10(Int(phase == .fraction ? digits : 0)))
            return (minimum.map { value >= $0 } ?? true) && (maximum.map { value <= $0 } ?? true)
        default: return false
        }
    }

    private func signed(_ magnitude: Double) -> Double { negative ? -magnitude : magnitude }

    /// The next cursor after `byte`, or nil when `byte` cannot continue this number.
    func advanced(_ byte: UInt8, integer: Bool, minimum: Double?, maximum: Double?) -> NumberCursor? {
        let bounded = minimum != nil || maximum != nil
        let isDigit = byte >= 0x30 && byte <= 0x39
        let d = Double(byte) - 48
        var next = self
        switch phase {
        case .start:
            if byte == UInt8(ascii: "-") { next.phase = .minus; next.negative = true; return next.feasible(minimum, maximum, integer) ? next : nil }
            fallthrough
        case .minus:
            guard isDigit else { return nil }
            next.phase = byte == 0x30 ? .zero : .integer
            next.integerPart = d
            next.digits = 1
        case .integer:
            if isDigit {
                guard digits < Self.maxIntegerDigits else { return nil }
                next.integerPart = integerPart * 10 + d
                next.digits += 1
            } else { return afterInteger(byte, integer: integer, bounded: bounded) }
        case .zero:
            return afterInteger(byte, integer: integer, bounded: bounded)
        case .dot, .fraction:
            if phase == .fraction, !isDigit, !bounded, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                next.phase = .exponent
                next.digits = 0
                return next
            }
            guard isDigit, digits < Self.maxFractionDigits || phase == .dot else { return nil }
            next.digits = phase == .dot ? 1 : digits + 1
            next.fractionValue = (phase == .dot ? 0 : fractionValue) * 10 + d
            next.phase = .fraction
        case .exponent:
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { next.phase = .exponentSign; return next }
            fallthrough
        case .exponentSign, .exponentDigits:
            guard isDigit else { return nil }
            if phase == .exponentDigits { guard digits < Self.maxExponentDigits else { return nil }; next.digits += 1 } else { next.digits = 1 }
            next.phase = .exponentDigits
        }
        if !bounded { next.integerPart = 0; next.fractionValue = 0 }
        return next.feasible(minimum, maximum, integer) ? next : nil
    }

    private func afterInteger(_ byte: UInt8, integer: Bool, bounded: Bool) -> NumberCursor? {
        guard !integer else { return nil }
        var next = self
        if byte == UInt8(ascii: ".") {
            next.phase = .dot
            next.digits = 0
            next.fractionValue = 0
            return next
        }
        if !bounded, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            next.phase = .exponent
            next.digits = 0
            return next
        }
        return nil
    }

    /// Whether some completion of the digits read so far lies in [minimum, maximum].
    private func feasible(_ minimum: Double?, _ maximum: Double?, _ integer: Bool) -> Bool {
        guard minimum != nil || maximum != nil else { return true }
        let lo = minimum ?? -.infinity, hi = maximum ?? .infinity
        // Reachable magnitudes, as half-open intervals [a, b) (closed [a, a] for an integer that stops here).
        func hits(_ a: Double, _ b: Double, closedEnd: Bool) -> Bool {
            if negative { return -a >= lo && (closedEnd ? -b <= hi : -b < hi) }
            return a <= hi && (closedEnd ? b >= lo : b > lo)
        }
        switch phase {
        case .start: return true
        case .minus: return lo < 0
        case .zero:
            return hits(0, 0, closedEnd: true) || (!integer && hits(0, 1, closedEnd: false))
        case .integer:
            let m = integerPart
            let maxMore = Int(Self.maxIntegerDigits - digits)
            for j in 0 ... maxMore {
                let scale = pow10(j)
                if integer ? hits(m * scale, (m + 1) * scale - 1, closedEnd: true) : hits(m * scale, (m + 1) * scale, closedEnd: false) {
                    return true
                }
            }
            return false
        case .dot:
            return hits(integerPart, integerPart + 1, closedEnd: false)
        case .fraction:
            let scale = pow10(Int(digits))
            let a = integerPart + fractionValue / scale
            return hits(a, a, closedEnd: true) || (digits < Self.maxFractionDigits && hits(a, a + 1 / scale, closedEnd: false))
        default: return true
        }
    }
}

func pow10(_ n: Int) -> Double {
    var p = 1.0
    for _ in 0 ..< max(0, n) { p *= 10 }
    return p
}
