import Engine
import Foundation
import Testing
@testable import OpenAIAPI

/// `WorkerLoad`: the `GET /get_load` body that vllm-router's `power_of_two` policy reads.
@Suite struct WorkerLoadTests {
    @Test func loadIsRunningPlusWaiting() {
        var stats = EngineStats(kvBlocksTotal: 64, kvBlockSize: 16)
        stats.runningCount = 3
        stats.waitingCount = 2
        stats.kvBlocksUsed = 40
        #expect(WorkerLoad(stats: stats).load == 5)
    }

    @Test func noEngineYetMeansNoLoad() {
        #expect(WorkerLoad(stats: nil).load == 0)
        #expect(WorkerLoad(stats: EngineStats(kvBlocksTotal: 8, kvBlockSize: 16)).load == 0)
    }

    /// The router parses `{"load": <integer>}`; nothing else is needed on the wire.
    @Test func wireShapeIsOneIntegerField() throws {
        var stats = EngineStats(kvBlocksTotal: 8, kvBlockSize: 16)
        stats.runningCount = 7
        let object = try JSONSerialization.jsonObject(with: JSONCoding.encode(WorkerLoad(stats: stats)))
        let body = try #require(object as? [String: Any])
        #expect(body.keys.sorted() == ["load"])
        #expect(body["load"] as? Int == 7)
    }
}
