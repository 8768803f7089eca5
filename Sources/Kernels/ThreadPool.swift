import CKernels

/// A persistent pool of worker threads that kernels split their output rows over. The threads start
/// once, in `init`; the calling thread is worker 0, so a pool of T threads owns T-1 pthreads. A job is a
/// number of tasks the threads claim one by one, so a worker the OS has not scheduled on this shared
/// machine just runs fewer tasks instead of holding the job up. Between
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

    /// Runs `body(task, thread)` for every task in 0..<taskCount across the pool's threads (`thread` is
    /// 0 for the caller, up to threadCount - 1) and returns when all calls have returned. Threads claim
    /// tasks one at a time, so calls run concurrently: each task must write only its own data (per-thread
    /// scratch may be indexed by `thread`). Called from inside a task, it runs every task inline.
    public func run(taskCount: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        guard taskCount > 0 else { return }
        withoutActuallyEscaping(body) { escapable in
            // The C pool counts tasks in Int32: larger jobs run in rounds.
            let roundSize = Int(Int32.max)
            for base in stride(from: 0, to: taskCount, by: roundSize) {
                var job = Job(body: escapable, base: base)
                withUnsafeMutablePointer(to: &job) { pointer in
                    ck_pool_run(handle, Int32(min(roundSize, taskCount - base)), { context, task, thread in
                        guard let job = context?.assumingMemoryBound(to: Job.self) else { return }
                        job.pointee.body(job.pointee.base + Int(task), Int(thread))
                    }, pointer)
                }
            }
        }
    }

    private struct Job {
        let body: (Int, Int) -> Void
        let base: Int
    }
}
