import Foundation
import XCTest
import TestSupport
@testable import Kernels

/// `ThreadPool`: every thread runs each job exactly once, sleeping workers wake up, and splitting a
/// product over threads gives the same bits as one thread.
final class ThreadPoolTests: XCTestCase {
    func testEveryTaskRunsExactlyOnce() throws {
        for threads in [1, 2, 3, 5] {
            let pool = try ThreadPool(threadCount: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for taskCount in [1, 2, 7, 100] {
                let runs = UnsafeMutableBufferPointer<Int>.allocate(capacity: taskCount)
                let threadSeen = UnsafeMutableBufferPointer<Int>.allocate(capacity: taskCount)
                defer {
                    runs.deallocate()
                    threadSeen.deallocate()
                }
                runs.initialize(repeating: 0)
                threadSeen.initialize(repeating: -1)
                for _ in 0..<300 {
                    pool.run(taskCount: taskCount) { task, thread in
                        runs[task] += 1  // each task writes only its own slot
                        threadSeen[task] = thread
                    }
                }
                XCTAssertEqual(Array(runs), [Int](repeating: 300, count: taskCount), "\(threads) threads, \(taskCount) tasks")
                XCTAssertTrue(threadSeen.allSatisfy { (0..<threads).contains($0) }, "thread indices in range")
            }
        }
    }

    func testSleepingWorkersWakeForTheNextJob() throws {
        let pool = try ThreadPool(threadCount: 3, spinMicroseconds: 0)
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 12)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        for round in 1...5 {
            usleep(20_000)  // long past the spin: the workers are asleep
            pool.run(taskCount: 12) { task, _ in seen[task] = round }
            XCTAssertEqual(Array(seen), [Int](repeating: round, count: 12))
        }
    }

    func testNestedRunCompletesInline() throws {
        let pool = try ThreadPool(threadCount: 2)
        let cells = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4 * 3)
        defer { cells.deallocate() }
        cells.initialize(repeating: 0)
        pool.run(taskCount: 4) { outer, _ in
            pool.run(taskCount: 3) { inner, thread in
                precondition(thread == 0)
                cells[outer * 3 + inner] += 1
            }
        }
        XCTAssertEqual(Array(cells), [Int](repeating: 1, count: 12))
    }

    func testDefaultThreadCountIsTheAvailableCores() throws {
        XCTAssertGreaterThanOrEqual(ThreadPool.availableCoreCount, 1)
        XCTAssertEqual(try ThreadPool().threadCount, ThreadPool.availableCoreCount)
        XCTAssertThrowsError(try ThreadPool(threadCount: 0))
    }

    func testQuantizedProductIsTheSameOnAnyThreadCount() throws {
        var random = TestRandom(seed: 13)
        for (format, m, n, k) in [(QuantizedFormat.q4_1, 16, 577, 576), (.q8_0, 1, 1000, 576), (.q4_0, 37, 33, 1536)] {
            let blocks = QuantizedReference.makeBlocks(format, rows: n, columns: k, random: &random)
            let x = random.activations(count: m * k)
            let activations = try QuantizedActivations(rowCapacity: m, columnCount: k)
            try x.withUnsafeBufferPointer { try quantizeActivations(output: activations, input: $0, rowCount: m) }
            var results: [[Float]] = []
            for threads in [1, 2, 3, 4] {
                let pool = try ThreadPool(threadCount: threads)
                var y = [Float](repeating: .nan, count: m * n)
                try blocks.withUnsafeBytes { raw in
                    let w = try PackedQuantizedMatrix(QuantizedMatrix(format: format, rowCount: n, columnCount: k,
                                                                      blocks: raw.baseAddress!, byteCount: raw.count))
                    try y.withUnsafeMutableBufferPointer {
                        try packedQuantizedMatmul([PackedProduct(output: $0, weights: w)], input: activations, pool: pool)
                    }
                }
                results.append(y)
            }
            XCTAssertFalse(results[0].contains { $0.isNaN }, "\(format): every output written")
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "\(format) M=\(m) N=\(n) K=\(k)") }
        }
    }

    func testBF16ProductIsTheSameOnAnyThreadCount() throws {
        var random = TestRandom(seed: 17)
        let m = 5, n = 301, k = 100
        let w = (0..<(n * k)).map { _ in random.uniform(-1, 1) }
        let x = random.activations(count: m * k)
        var wBits = [UInt16](repeating: 0, count: n * k)
        try wBits.withUnsafeMutableBufferPointer { out in try w.withUnsafeBufferPointer { try convertToBF16(output: out, input: $0) } }
        let input = try BF16Activations(rowCapacity: m, columnCount: k)
        try x.withUnsafeBufferPointer { try convertToBF16(output: input, input: $0, rowCount: m) }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let pool = try ThreadPool(threadCount: threads)
            var y = [Float](repeating: .nan, count: m * n)
            try wBits.withUnsafeBufferPointer { bits in
                let matrix = try BF16Matrix(rowCount: n, columnCount: k, elements: bits)
                try y.withUnsafeMutableBufferPointer { try bf16Matmul(output: $0, input: input, weights: matrix, pool: pool) }
            }
            results.append(y)
        }
        XCTAssertFalse(results[0].contains { $0.isNaN })
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
    }
}
