import CKernels

/// A persistent pool of worker threads that kernels split their output rows over. The threads start
/// once, in `init`; the calling thread is worker 0, so a pool of T threads owns T-1 pthreads. Between
/// jobs, workers spin for `spinMicroseconds` (so the hundreds of small products of one forward pass
/// cost no wake-ups) and then sleep on a condition variable (so an idle server burns no CPU).
///
/// Jobs from several threads are serialized, which is what makes sharing it (`Sendable`) safe; the
/// intended owner is the engine thread.
public final class ThreadPool: @unchecked Sendable {
    /// Threads that run each job, the caller's included.
    public let threadCount: Int
    let handle: OpaquePointer

    /// CPUs this process may run on (its scheduler affinity): the default thread count.
    public static var availableCoreCount: Int { Int(ck_cpu_count()) }

    /// Starts `threadCount` - 1 workers (nil: one thread per available core).
    public init(threadCount: Int? = nil, spinMicroseconds: Int = 100) throws {
        let count = threadCount ?? ThreadPool.availableCoreCount
        guard count >= 1, count <= 1024 else {
            throw QuantizedKernelError.invalidShape(what: "thread pool", rowCount: count, columnCount: 1,
                                                    reason: "the thread count must be between 1 and 1024")
        }
        guard let pool = ck_pool_create(Int32(count), Int32(clamping: max(0, spinMicroseconds))) else {
            throw QuantizedKernelError.threadCreationFailed(threadCount: count)
        }
        self.threadCount = count
        handle = pool
    }

    deinit {
        ck_pool_destroy(handle)
    }

    /// Runs `body(threadIndex, threadCount)` once on every thread of the pool, at the same time, and
    /// returns when all calls have returned. `body` must only write data no other call touches (split
    /// the work by `threadIndex`).
    public func run(_ body: (_ threadIndex: Int, _ threadCount: Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var job = Job(body: escapable)
            withUnsafeMutablePointer(to: &job) { pointer in
                ck_pool_run(handle, { context, index, count in
                    guard let context else { return }
                    context.assumingMemoryBound(to: Job.self).pointee.body(Int(index), Int(count))
                }, pointer)
            }
        }
    }

    private struct Job {
        let body: (Int, Int) -> Void
    }
}
