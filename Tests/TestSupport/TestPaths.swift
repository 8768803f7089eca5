import Foundation

/// Where tests find the repository's files: the real model (downloaded by `make setup`) and the golden
/// fixtures in `Tests/Fixtures/` (written by `scripts/make_fixtures.py`, never by our own code).
public enum TestPaths {
    /// The package root, found from this file's location.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The default GGUF model; `HAMBURGER_MODEL` overrides it.
    public static var modelPath: String {
        if let path = ProcessInfo.processInfo.environment["HAMBURGER_MODEL"] { return path }
        return repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    }

    /// A file in `Tests/Fixtures/`.
    public static func fixture(_ name: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// Decodes a JSON fixture.
    public static func loadFixture<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: fixture(name)))
    }
}
