/// A property a fuzz body checks. A violated one must stop the run with a crash (the signal libFuzzer
/// records an input for), whatever the build's optimisation level, so this is not `assert`.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz property violated: \(message())", file: file, line: line) }
}
