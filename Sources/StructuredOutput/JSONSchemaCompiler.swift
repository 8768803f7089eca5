import Foundation

/// Compiles the supported JSON Schema subset into a `JSONGrammar` (nodes + literal byte strings).
///
/// Supported: `type` (one or a list), `properties`, `required`, `additionalProperties` (bool or a
/// schema; absent = only the declared properties are generated, any when none are declared), `items`, `minItems`, `maxItems`, `enum`, `const`, `minimum`, `maximum`,
/// `anyOf`, `$ref` to `#`, `#/$defs/NAME` or `#/definitions/NAME`. Annotations (`title`,
/// `description`, `default`, `examples`, `$schema`, `$id`, `$comment`, `format`) are ignored. Any
/// other keyword is refused with `unsupportedKeyword`, never silently dropped: the output must
/// validate against the schema the caller sent.
public struct JSONSchemaCompiler {
    static let annotations: Set<String> = ["title", "description", "default", "examples", "$schema", "$id", "$comment", "format", "$defs", "definitions", "strict"]
    static let supported: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
                                         "enum", "const", "minimum", "maximum", "anyOf", "$ref"]

    private let root: JSONValue
    private var nodes: [SchemaNode] = []
    private var literals: [[UInt8]] = []
    private var literalIndex: [[UInt8]: Int32] = [:]
    private var references: [String: Int32] = [:]
    private var anyNode: Int32?

    private init(root: JSONValue) { self.root = root }

    /// The grammar of any JSON object (`response_format: {"type": "json_object"}`).
    public static func anyObject() -> JSONGrammar {
        var compiler = JSONSchemaCompiler(root: .null)
        let any = compiler.anyValue()
        let object = compiler.add(.object(ObjectShape(keyLiterals: [], valueNodes: [], requiredMask: 0, additional: any)))
        return JSONGrammar(nodes: compiler.nodes, literals: compiler.literals, root: object)
    }

    /// The grammar of the values `schema` accepts.
    public static func compile(_ schema: JSONValue) throws(StructuredOutputError) -> JSONGrammar {
        var compiler = JSONSchemaCompiler(root: schema)
        let root = try compiler.node(for: schema, path: "#")
        return JSONGrammar(nodes: compiler.nodes, literals: compiler.literals, root: root)
    }

    private mutating func add(_ node: SchemaNode) -> Int32 {
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func literal(_ bytes: [UInt8]) -> Int32 {
        if let index = literalIndex[bytes] { return index }
        literals.append(bytes)
        literalIndex[bytes] = Int32(literals.count - 1)
        return Int32(literals.count - 1)
    }

    /// Any JSON value (shared; objects and arrays of it refer back to it).
    private mutating func anyValue() -> Int32 {
        if let anyNode { return anyNode }
        let any = add(.unresolved)
        anyNode = any
        let object = add(.object(ObjectShape(keyLiterals: [], valueNodes: [], requiredMask: 0, additional: any)))
        let array = add(.array(items: any, minItems: 0, maxItems: nil))
        let string = add(.string)
        let number = add(.number(integer: false, minimum: nil, maximum: nil))
        let constants = add(.literals(["true", "false", "null"].map { literal(Array($0.utf8)) }))
        nodes[Int(any)] = .anyOf([object, array, string, number, constants])
        return any
    }

    private mutating func node(for schema: JSONValue, path: String) throws(StructuredOutputError) -> Int32 {
        switch schema {
        case .bool(true): return anyValue()
        case .bool(false): throw .invalidSchema(path: path, message: "the schema 'false' accepts no value")
        case let .object(keywords): return try node(for: keywords, path: path)
        default: throw .invalidSchema(path: path, message: "a schema must be an object or a boolean")
        }
    }

    private mutating func node(for k: [String: JSONValue], path: String) throws(StructuredOutputError) -> Int32 {
        for key in k.keys.sorted() where !Self.supported.contains(key) && !Self.annotations.contains(key) {
            throw .unsupportedKeyword(keyword: key, path: path)
        }
        if let reference = k["$ref"] {
            guard k.keys.allSatisfy({ $0 == "$ref" || Self.annotations.contains($0) }) else {
                throw .unsupportedKeyword(keyword: k.keys.sorted().first { $0 != "$ref" && !Self.annotations.contains($0) }!, path: path + " (beside $ref)")
            }
            return try resolve(reference, path: path)
        }
        if let const = k["const"] { return add(.literals([literal(const.encoded)])) }
        if let values = k["enum"] {
            guard case let .array(items) = values, !items.isEmpty else { throw .invalidSchema(path: path + "/enum", message: "'enum' must be a non-empty array") }
            return add(.literals(items.map { literal($0.encoded) }))
        }
        if let anyOf = k["anyOf"] {
            guard case let .array(schemas) = anyOf, !schemas.isEmpty else { throw .invalidSchema(path: path + "/anyOf", message: "'anyOf' must be a non-empty array") }
            if let other = k.keys.sorted().first(where: { $0 != "anyOf" && !Self.annotations.contains($0) }) {
                throw .unsupportedKeyword(keyword: other, path: path + " (beside anyOf)")
            }
            var children: [Int32] = []
            for (i, schema) in schemas.enumerated() { children.append(try node(for: schema, path: "\(path)/anyOf/\(i)")) }
            return add(.anyOf(children))
        }
        var types: [String]
        switch k["type"] {
        case nil:
            if k["properties"] != nil || k["required"] != nil || k["additionalProperties"] != nil { types = ["object"] }
            else if k["items"] != nil || k["minItems"] != nil || k["maxItems"] != nil { types = ["array"] }
            else if k["minimum"] != nil || k["maximum"] != nil { types = ["number"] }
            else { return anyValue() }
        case let .string(t)?: types = [t]
        case let .array(list)?:
            types = []
            for item in list {
                guard case let .string(t) = item else { throw .invalidSchema(path: path + "/type", message: "'type' entries must be strings") }
                types.append(t)
            }
        default: throw .invalidSchema(path: path + "/type", message: "'type' must be a string or an array of strings")
        }
        var children: [Int32] = []
        for type in types { children.append(try node(ofType: type, k, path: path)) }
        return children.count == 1 ? children[0] : add(.anyOf(children))
    }

    private mutating func node(ofType type: String, _ k: [String: JSONValue], path: String) throws(StructuredOutputError) -> Int32 {
        switch type {
        case "object": return try object(k, path: path)
        case "array":
            let items = try k["items"].map { (schema) throws(StructuredOutputError) in try node(for: schema, path: path + "/items") } ?? anyValue()
            let minItems = try count(k["minItems"], "minItems", path) ?? 0
            let maxItems = try count(k["maxItems"], "maxItems", path)
            if let maxItems, maxItems < minItems { throw .invalidSchema(path: path, message: "maxItems \(maxItems) < minItems \(minItems)") }
            return add(.array(items: items, minItems: minItems, maxItems: maxItems))
        case "string": return add(.string)
        case "integer", "number":
            let minimum = try bound(k["minimum"], "minimum", path), maximum = try bound(k["maximum"], "maximum", path)
            if let minimum, let maximum, maximum < minimum { throw .invalidSchema(path: path, message: "maximum \(maximum) < minimum \(minimum)") }
            if type == "integer", let minimum, let maximum, minimum.rounded(.up) > maximum.rounded(.down) {
                throw .invalidSchema(path: path, message: "no integer lies in [\(minimum), \(maximum)]")
            }
            return add(.number(integer: type == "integer", minimum: minimum, maximum: maximum))
        case "boolean": return add(.literals([literal(Array("true".utf8)), literal(Array("false".utf8))]))
        case "null": return add(.literals([literal(Array("null".utf8))]))
        default: throw .invalidSchema(path: path + "/type", message: "unknown type '\(type)'")
        }
    }

    private mutating func object(_ k: [String: JSONValue], path: String) throws(StructuredOutputError) -> Int32 {
        var names: [String] = []
        var schemas: [JSONValue] = []
        if let properties = k["properties"] {
            guard case let .object(members) = properties else { throw .invalidSchema(path: path + "/properties", message: "'properties' must be an object") }
            // Declaration order is lost by the JSON decoder; sorted names keep compilation deterministic.
            for name in members.keys.sorted() {
                names.append(name)
                schemas.append(members[name]!)
            }
        }
        guard names.count <= 64 else { throw .tooManyProperties(count: names.count, path: path) }
        var required: UInt64 = 0
        if let list = k["required"] {
            guard case let .array(items) = list else { throw .invalidSchema(path: path + "/required", message: "'required' must be an array of names") }
            for item in items {
                guard case let .string(name) = item else { throw .invalidSchema(path: path + "/required", message: "'required' must be an array of names") }
                guard let index = names.firstIndex(of: name) else {
                    throw .invalidSchema(path: path + "/required", message: "required property '\(name)' is not declared in 'properties'")
                }
                required |= 1 << UInt64(index)
            }
        }
        var additional: Int32?
        switch k["additionalProperties"] {
        // Absent: any other key is allowed by the schema, but generating only the declared ones
        // (when there are any) still validates and keeps small models on track.
        case nil: additional = names.isEmpty ? anyValue() : nil
        case .bool(true)?: additional = anyValue()
        case .bool(false)?: additional = nil
        case let schema?: additional = try node(for: schema, path: path + "/additionalProperties")
        }
        var keys: [Int32] = [], values: [Int32] = []
        for (name, schema) in zip(names, schemas) {
            var bytes: [UInt8] = []
            JSONValue.encodeString(name, into: &bytes)
            keys.append(literal(bytes))
            values.append(try node(for: schema, path: "\(path)/properties/\(name)"))
        }
        return add(.object(ObjectShape(keyLiterals: keys, valueNodes: values, requiredMask: required, additional: additional)))
    }

    private mutating func resolve(_ reference: JSONValue, path: String) throws(StructuredOutputError) -> Int32 {
        guard case let .string(pointer) = reference else { throw .invalidSchema(path: path + "/$ref", message: "'$ref' must be a string") }
        if let known = references[pointer] { return known }
        let target: JSONValue?
        if pointer == "#" {
            target = root
        } else {
            let parts = pointer.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, parts[0] == "#", parts[1] == "$defs" || parts[1] == "definitions",
               case let .object(top) = root, case let .object(defs)? = top[parts[1]] {
                target = defs[parts[2].replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
            } else {
                target = nil
            }
        }
        guard let target else { throw .unresolvableReference(pointer, path: path) }
        let placeholder = add(.unresolved)
        references[pointer] = placeholder
        let compiled = try node(for: target, path: pointer)
        nodes[Int(placeholder)] = .anyOf([compiled])
        return placeholder
    }

    private func count(_ value: JSONValue?, _ name: String, _ path: String) throws(StructuredOutputError) -> Int? {
        guard let value else { return nil }
        guard let n = value.numberValue, n >= 0, n.rounded() == n, n < 1e6 else {
            throw .invalidSchema(path: path + "/" + name, message: "'\(name)' must be a non-negative integer")
        }
        return Int(n)
    }

    private func bound(_ value: JSONValue?, _ name: String, _ path: String) throws(StructuredOutputError) -> Double? {
        guard let value else { return nil }
        guard let n = value.numberValue, n.isFinite else { throw .invalidSchema(path: path + "/" + name, message: "'\(name)' must be a number") }
        return n
    }
}
