#if FUZZING
import CFuzzerDriver

/// Starts libFuzzer from a fuzz target's entry point. SwiftPM links each executable with `main` aliased to
/// `<Module>_main`, so libFuzzer's own `main` is never used; the target's `<Module>_main` calls this.
public enum FuzzDriver {
    public static func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                           _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
        var count = argc
        var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return LLVMFuzzerRunDriver(&count, &arguments, test)
    }
}
#endif
