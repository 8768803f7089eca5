/// One configuration key: its YAML name, the `HAMBURGER_*` variable and `--flag` derived from it, and
/// how a YAML value or an override string is checked and stored.
struct ConfigKey: Sendable {
    enum Kind: Sendable, Equatable {
        case string, optionalString, int, optionalInt, double, optionalDouble, stringList
        /// A string that must be one of these (checked where it is read, so the error names its source).
        case choice([String])
    }

    let name: String
    let kind: Kind
    let help: String
    let store: @Sendable (inout ServerConfiguration, ConfigValue) -> Void

    var environmentName: String { "HAMBURGER_" + name.uppercased() }
    var flagName: String { name.replacingOccurrences(of: "_", with: "-") }

    /// Parses `raw` (a YAML scalar/sequence or a string from the environment or a flag) and stores it.
    func apply(_ raw: Any, to config: inout ServerConfiguration, source: String) throws {
        func fail(_ expected: String) -> ConfigurationError {
            ConfigurationError("configuration key '\(name)' (from \(source)) must be \(expected), got '\(raw)'")
        }
        let text = raw as? String
        let isNull = raw is NSNullLike || text == "null" || text == "~" || text?.isEmpty == true && kind != .string && kind != .stringList
        switch kind {
        case .string:
            guard let s = text ?? (raw as? CustomStringConvertible).map({ "\($0)" }) else { throw fail("a string") }
            store(&config, .string(s))
        case .optionalString:
            if isNull { store(&config, .none); return }
            guard let s = text ?? (raw as? CustomStringConvertible).map({ "\($0)" }) else { throw fail("a string") }
            store(&config, .string(s))
        case .int, .optionalInt:
            if isNull, kind == .optionalInt { store(&config, .none); return }
            if let i = raw as? Int { store(&config, .int(i)); return }
            guard let s = text, let i = Int(s.replacingOccurrences(of: "_", with: "")) else { throw fail("an integer") }
            store(&config, .int(i))
        case .double, .optionalDouble:
            if isNull, kind == .optionalDouble { store(&config, .none); return }
            if let d = raw as? Double { store(&config, .double(d)); return }
            if let i = raw as? Int { store(&config, .double(Double(i))); return }
            guard let s = text, let d = Double(s) else { throw fail("a number") }
            store(&config, .double(d))
        case let .choice(allowed):
            guard let s = text ?? (raw as? CustomStringConvertible).map({ "\($0)" }), allowed.contains(s) else {
                throw fail("one of \(allowed.joined(separator: ", "))")
            }
            store(&config, .string(s))
        case .stringList:
            if let list = raw as? [Any] {
                store(&config, .list(list.map { "\($0)" }))
            } else if let s = text {
                store(&config, .list(s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }))
            } else if isNull {
                store(&config, .list([]))
            } else {
                throw fail("a list of strings (in the environment or a flag: comma-separated)")
            }
        }
    }

    static let named: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}

/// A parsed configuration value on its way into `ServerConfiguration`.
enum ConfigValue: Sendable {
    case none, string(String), int(Int), double(Double), list([String])
    var string: String? { if case let .string(s) = self { return s } else { return nil } }
    var int: Int? { if case let .int(i) = self { return i } else { return nil } }
    var double: Double? { if case let .double(d) = self { return d } else { return nil } }
    var list: [String] { if case let .list(l) = self { return l } else { return [] } }
}

/// Yams loads YAML `null` as NSNull on Linux; this keeps the check free of Foundation types.
protocol NSNullLike {}

import Foundation
extension NSNull: NSNullLike {}
