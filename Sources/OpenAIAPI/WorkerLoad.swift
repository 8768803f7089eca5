import Engine

/// The body of `GET /get_load`: `{"load": N}`, N = requests running + waiting in the engine. It is the
/// shape vllm-router's load-aware policy (`power_of_two`) polls on every worker to send each new
/// request to the less loaded of two; the same two counts as `/metrics` publishes, read at the same
/// moment. Before the model is attached there is no engine and the load is 0 (the router's health
/// check on `/health` keeps it off a loading replica anyway).
struct WorkerLoad: Encodable, Equatable {
    /// Sequences running + waiting (queued, new or preempted).
    var load: Int

    init(stats: EngineStats?) {
        load = stats.map { $0.runningCount + $0.waitingCount } ?? 0
    }
}
