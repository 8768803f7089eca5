import StructuredOutput

/// `response_format`, as OpenAI spells it: `{"type": "text"}` (no constraint), `{"type": "json_object"}`
/// (any JSON object) or `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`. The
/// output is then constrained token by token (see the StructuredOutput module), in both decoding modes.
public struct ResponseFormat: Decodable, Sendable {
    /// `json_schema`'s payload; only `schema` shapes the output (`name`, `description`, `strict` are
    /// accepted and not needed: the constraint is always strict).
    public struct JSONSchemaSpec: Decodable, Sendable {
        public var name: String?
        public var description: String?
        public var schema: JSONValue?
        public var strict: Bool?
    }

    public var type: String
    public var jsonSchema: JSONSchemaSpec?

    enum CodingKeys: String, CodingKey { case type, jsonSchema = "json_schema" }

    /// The compiled constraint (nil for `text`), or a 400 naming what is wrong (the unsupported
    /// schema keyword, the missing schema, the unknown type).
    func constraint(from cache: ConstraintCache) throws(APIError) -> TokenConstraint? {
        switch type {
        case "text": return nil
        case "json_object": return try compiled(nil, cache)
        case "json_schema":
            guard let schema = jsonSchema?.schema else {
                throw .invalidField(param: "response_format.json_schema.schema", message: "'response_format.json_schema.schema' is required for type 'json_schema'.")
            }
            return try compiled(schema, cache)
        default:
            throw .invalidField(param: "response_format.type", message: "'response_format.type' must be 'text', 'json_object' or 'json_schema', got '\(type)'.")
        }
    }

    private func compiled(_ schema: JSONValue?, _ cache: ConstraintCache) throws(APIError) -> TokenConstraint {
        do {
            return try cache.constraint(for: schema)
        } catch {
            throw .invalidField(param: "response_format.json_schema.schema", message: error.message)
        }
    }
}
