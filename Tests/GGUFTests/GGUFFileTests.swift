import Foundation
import XCTest
import TestSupport
@testable import GGUF

/// `GGUFFile` on hand-built images: every value type, nested arrays, alignment, the supported tensor
/// types against a naive decoder, and broken files that must throw instead of crashing.
final class GGUFFileTests: XCTestCase {
    private func metadataRecords() -> (count: Int, bytes: [UInt8]) {
        var w = GGUFTestWriter()
        w.string("u8"); w.u32(0); w.u8(200)
        w.string("i8"); w.u32(1); w.u8(0xFF)
        w.string("u16"); w.u32(2); w.u16(65000)
        w.string("i16"); w.u32(3); w.u16(UInt16(bitPattern: -300))
        w.string("u32"); w.u32(4); w.u32(4_000_000_000)
        w.string("i32"); w.u32(5); w.u32(UInt32(bitPattern: -7))
        w.string("f32"); w.u32(6); w.u32(Float(1.5).bitPattern)
        w.string("bool"); w.u32(7); w.u8(1)
        w.string("str"); w.u32(8); w.string("héllo")
        w.string("arr"); w.u32(9); w.u32(9); w.u64(2)
        w.u32(5); w.u64(2); w.u32(1); w.u32(2)
        w.u32(8); w.u64(1); w.string("x")
        w.string("u64"); w.u32(10); w.u64(1 << 40)
        w.string("i64"); w.u32(11); w.u64(UInt64(bitPattern: -9))
        w.string("f64"); w.u32(12); w.u64(Double(2.25).bitPattern)
        w.string("general.alignment"); w.u32(4); w.u32(64)
        return (14, w.bytes)
    }

    private func half(_ f: Float) -> [UInt8] {
        withUnsafeBytes(of: Float16(f).bitPattern.littleEndian) { Array($0) }
    }

    /// Tensors of each supported type with known contents, and the values a naive decoder gives.
    private func sampleTensors() -> [(GGUFTestWriter.Tensor, [Float])] {
        var out: [(GGUFTestWriter.Tensor, [Float])] = []
        let f32: [Float] = [1, -2, 3.5, 0]
        out.append((.init(name: "f32", dims: [4], type: 0, data: f32.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }), f32))
        let f16: [Float] = [0.5, -1, 65504, 0.000061035156]
        out.append((.init(name: "f16", dims: [2, 2], type: 1, data: f16.flatMap(half)), f16))
        let bf16: [Float] = [1, -3, 0.15625, 256]
        out.append((.init(name: "bf16", dims: [4], type: 30, data: bf16.flatMap { withUnsafeBytes(of: UInt16($0.bitPattern >> 16).littleEndian) { Array($0) } }), bf16))
        // Q8_0: d = 0.5, q = -16..15
        var q8 = half(0.5)
        var q8v: [Float] = []
        for j in 0..<32 { let q = Int8(j - 16); q8.append(UInt8(bitPattern: q)); q8v.append(0.5 * Float(q)) }
        out.append((.init(name: "q8_0", dims: [32], type: 8, data: q8), q8v))
        // Q4_0: d = 0.25, nibble j for elements j (low) and j + 16 (high = 15 - j)
        var q40 = half(0.25)
        var q40v = [Float](repeating: 0, count: 32)
        for j in 0..<16 {
            let lo = UInt8(j), hi = UInt8(15 - j)
            q40.append(lo | hi << 4)
            q40v[j] = 0.25 * Float(Int(lo) - 8)
            q40v[j + 16] = 0.25 * Float(Int(hi) - 8)
        }
        out.append((.init(name: "q4_0", dims: [32], type: 2, data: q40), q40v))
        // Q4_1: d = 0.5, m = -1
        var q41 = half(0.5) + half(-1)
        var q41v = [Float](repeating: 0, count: 32)
        for j in 0..<16 {
            let lo = UInt8((j * 3) % 16), hi = UInt8((j * 7 + 1) % 16)
            q41.append(lo | hi << 4)
            q41v[j] = 0.5 * Float(lo) - 1
            q41v[j + 16] = 0.5 * Float(hi) - 1
        }
        out.append((.init(name: "q4_1", dims: [32], type: 3, data: q41), q41v))
        // Q6_K: a type we can size but not dequantize.
        out.append((.init(name: "q6k", dims: [256], type: 14, data: [UInt8](repeating: 0, count: 210)), []))
        return out
    }

    private func sampleFile() -> [UInt8] {
        let md = metadataRecords()
        return GGUFTestWriter.file(metadataCount: md.count, metadata: md.bytes, tensors: sampleTensors().map(\.0), alignment: 64)
    }

    func testEveryMetadataTypeAndNestedArrays() throws {
        let file = try GGUFFile(bytes: sampleFile())
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        let m = file.metadata
        XCTAssertEqual(m["u8"], .uint8(200))
        XCTAssertEqual(m["i8"], .int8(-1))
        XCTAssertEqual(m["u16"], .uint16(65000))
        XCTAssertEqual(m["i16"], .int16(-300))
        XCTAssertEqual(m["u32"], .uint32(4_000_000_000))
        XCTAssertEqual(m["i32"], .int32(-7))
        XCTAssertEqual(m["f32"], .float32(1.5))
        XCTAssertEqual(m["bool"], .bool(true))
        XCTAssertEqual(m["str"]?.stringValue, "héllo")
        XCTAssertEqual(m["arr"], .array([.array([.int32(1), .int32(2)]), .array([.string("x")])]))
        XCTAssertEqual(m["u64"]?.intValue, 1 << 40)
        XCTAssertEqual(m["i64"], .int64(-9))
        XCTAssertEqual(m["f64"]?.doubleValue, 2.25)
    }

    func testSupportedTypesDequantizeLikeTheNaiveDecoder() throws {
        let file = try GGUFFile(bytes: sampleFile())
        for (tensor, expected) in sampleTensors() where !expected.isEmpty {
            let info = try XCTUnwrap(file.tensor(named: tensor.name))
            XCTAssertEqual(info.fileOffset % 64, 0, tensor.name)
            XCTAssertEqual(try file.dequantize(info), expected, tensor.name)
        }
        XCTAssertEqual(file.tensor(named: "f16")?.dimensions, [2, 2])
    }

    func testUnsupportedTypeIsAClearError() throws {
        let file = try GGUFFile(bytes: sampleFile())
        XCTAssertThrowsError(try file.dequantize(named: "q6k")) { error in
            XCTAssertEqual(error as? GGUFError, .unsupportedTensorType(name: "q6k", type: .q6_K))
            XCTAssertTrue("\(error)".contains("q6k") && "\(error)".contains("Q6_K"))
        }
        XCTAssertThrowsError(try file.dequantize(named: "nope")) { XCTAssertEqual($0 as? GGUFError, .missingTensor("nope")) }
    }

    func testEveryTruncationThrows() {
        let full = sampleFile()
        for length in 0..<full.count - 1 {
            // Cutting only trailing padding of the last tensor still leaves every byte it declares.
            let cut = Array(full[0..<length])
            do {
                let file = try GGUFFile(bytes: cut)
                let last = file.tensors.last!
                XCTAssertLessThanOrEqual(last.fileOffset + last.byteCount, length)
            } catch {
                XCTAssertTrue(error is GGUFError, "length \(length): \(error)")
            }
        }
    }

    func testRandomCorruptionNeverCrashes() {
        let full = sampleFile()
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var copy = full
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<min(copy.count, 600), using: &rng)
                copy[i] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                let file = try GGUFFile(bytes: copy)
                for t in file.tensors where t.type.isDequantizable { _ = try file.dequantize(t) }
            } catch {
                XCTAssertTrue(error is GGUFError)
            }
        }
        for n in [0, 3, 4, 24, 100, 5000] {
            let noise = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            XCTAssertThrowsError(try GGUFFile(bytes: noise))
        }
    }

    func testWrongMagicAndVersion() {
        var bad = sampleFile()
        bad[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try GGUFFile(bytes: bad)) { XCTAssertEqual($0 as? GGUFError, .notGGUF(path: "<memory>")) }
        let v1 = GGUFTestWriter.file(version: 1, metadataCount: 0, metadata: [], tensors: [])
        XCTAssertThrowsError(try GGUFFile(bytes: v1)) { XCTAssertEqual($0 as? GGUFError, .unsupportedVersion(1)) }
        let v2 = GGUFTestWriter.file(version: 2, metadataCount: 0, metadata: [], tensors: [])
        XCTAssertEqual(try GGUFFile(bytes: v2).version, 2)
    }

    func testHugeCountsAreRejectedBeforeAllocating() {
        var w = GGUFTestWriter()
        w.string("arr"); w.u32(9); w.u32(0); w.u64(UInt64.max / 2)
        let file = GGUFTestWriter.file(metadataCount: 1, metadata: w.bytes, tensors: [])
        XCTAssertThrowsError(try GGUFFile(bytes: file)) { error in
            guard case .implausibleCount = error as? GGUFError else { return XCTFail("\(error)") }
        }
    }

    func testMissingFileSaysSo() {
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/model.gguf")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.gguf"))
        }
    }
}
