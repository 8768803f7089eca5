/// One metadata value of a GGUF file, in the file's own type (GGUF value types 0-12).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Any integer case as `Int` (nil for non-integers or values that do not fit).
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// Any float or integer case as `Double`.
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var boolValue: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case let .array(v) = self { return v }
        return nil
    }

    /// An array whose every element is a string.
    public var stringArray: [String]? { elements(\.stringValue) }

    /// An array whose every element is an integer.
    public var intArray: [Int]? { elements(\.intValue) }

    /// The array's elements read by `value`; nil when this is not an array or any element does not read.
    private func elements<T>(_ value: (GGUFValue) -> T?) -> [T]? {
        guard let array = arrayValue else { return nil }
        var out: [T] = []
        out.reserveCapacity(array.count)
        for element in array {
            guard let v = value(element) else { return nil }
            out.append(v)
        }
        return out
    }
}
