import Foundation

/// What a fuzz target is outside libFuzzer: a replay tool. A normal `swift build` builds every fuzz
/// target this way (no fuzzer runtime needed), and `FuzzX FILE|DIR...` runs the given inputs (a seed
/// corpus, or a crash file `make fuzz` left behind) through the same body libFuzzer calls, so a crash
/// reproduces under a debugger and the committed corpus is exercised by the unit tests' build.
public enum FuzzReplay {
    /// Runs `body` on every file named in the arguments (directories: every regular file inside,
    /// sorted by name); exits 0 after printing how many inputs ran, 2 on a usage or read error.
    public static func main(_ name: String, _ body: (UnsafeRawBufferPointer) -> Void) -> Never {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(name) FILE|DIR...  (replays fuzz inputs; see `make fuzz`)\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("\(name): cannot read \(file)\n".utf8))
                    exit(2)
                }
                data.withUnsafeBytes { body($0) }
                count += 1
            }
        }
        print("\(name): replayed \(count) inputs without a crash")
        exit(0)
    }

    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var sub: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &sub) && !sub.boolValue
        }
    }
}
