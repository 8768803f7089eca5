/// What can go wrong when calling the quantized, bf16 and thread-pool kernels: a shape or buffer that
/// does not fit, or a resource the OS refused. Kernels check their arguments and throw one of these
/// rather than reading or writing out of bounds; each message says what to change.
public enum QuantizedKernelError: Error, CustomStringConvertible, Equatable {
    /// A matrix or activation shape is empty, negative, or breaks a block-size rule.
    case invalidShape(what: String, rowCount: Int, columnCount: Int, reason: String)
    /// A buffer holds fewer elements than the shape needs.
    case bufferTooSmall(what: String, needed: Int, actual: Int)
    /// More rows were asked for than an activation scratch was created with.
    case rowCountExceedsCapacity(rowCount: Int, capacity: Int)
    /// The activations' width differs from the weights' input width (K).
    case columnCountMismatch(activations: Int, weights: Int)
    /// A forced code path this CPU cannot run.
    case pathUnsupported(path: KernelPath, kernel: String)
    /// The OS refused to start the pool's worker threads.
    case threadCreationFailed(threadCount: Int)

    public var description: String {
        switch self {
        case let .invalidShape(what, rows, columns, reason):
            return "\(what) of \(rows) x \(columns) is invalid: \(reason)"
        case let .bufferTooSmall(what, needed, actual):
            return "\(what) holds \(actual) elements but the shape needs \(needed); allocate a larger buffer or pass fewer rows"
        case let .rowCountExceedsCapacity(rows, capacity):
            return "\(rows) rows exceed the activation scratch capacity of \(capacity); create the scratch with a larger rowCapacity"
        case let .columnCountMismatch(activations, weights):
            return "activations have \(activations) columns but the weights expect \(weights); quantize the input with a scratch of the weights' columnCount"
        case let .pathUnsupported(path, kernel):
            return "the \(path) path of the \(kernel) kernels needs CPU features this machine lacks; use .automatic"
        case let .threadCreationFailed(count):
            return "could not start a pool of \(count) threads; lower the thread count"
        }
    }
}
