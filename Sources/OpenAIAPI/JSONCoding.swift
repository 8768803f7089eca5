import Foundation

/// Decoding request bodies with errors that name the offending field, and encoding responses.
enum JSONCoding {
    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws(APIError) -> T {
        guard !body.isEmpty else { throw .invalidJSON("the body is empty; send a JSON object") }
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = fieldPath(context.codingPath + [key])
            throw .invalidField(param: path, message: "'\(path)' is required.")
        } catch let DecodingError.typeMismatch(_, context) {
            let path = fieldPath(context.codingPath)
            throw .invalidField(param: path, message: "'\(path)' has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            let path = fieldPath(context.codingPath)
            throw .invalidField(param: path, message: "'\(path)' must not be null.")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            let path = fieldPath(context.codingPath)
            throw .invalidField(param: path, message: "'\(path)' is invalid: \(context.debugDescription)")
        } catch {
            if let (key, value) = misfitNumber(T.self, in: body) {
                throw .invalidField(param: key, message: "'\(key)' must be an integer within range, got \(value).")
            }
            throw .invalidJSON("expected a JSON object")
        }
    }

    /// Foundation reports a number that does not fit an integer field (`1.5`, `1e30`) as "not valid
    /// JSON" with no coding path. For a body that is valid JSON, finds the top-level key whose removal
    /// makes that error go away, so the 400 can name it.
    private static func misfitNumber<T: Decodable>(_ type: T.Type, in body: Data) -> (key: String, value: String)? {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return nil }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where value is NSNumber {
            var rest = object
            rest.removeValue(forKey: key)
            guard let data = try? JSONSerialization.data(withJSONObject: rest) else { continue }
            do {
                _ = try JSONDecoder().decode(T.self, from: data)
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                continue
            } catch {}
            return (key, "\(value)")
        }
        return nil
    }

    /// Refuses a body with a top-level key outside `accepted` (a field this server does not support,
    /// such as `best_of`, `suffix` or `tools`): a 400 naming it, never a silent ignore. Bodies that are
    /// not JSON objects are left to `decode`, which says what is wrong with them.
    static func refuseUnsupportedKeys(in body: Data, accepted: Set<String>) throws(APIError) {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return }
        if let key = object.keys.sorted().first(where: { !accepted.contains($0) }) {
            throw .invalidField(param: key, message: "'\(key)' is not supported by this server; remove it (see the README's request fields).")
        }
    }

    /// `messages[0].content` style path of a coding path.
    static func fieldPath(_ path: [CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return out.isEmpty ? "body" : out
    }

    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
