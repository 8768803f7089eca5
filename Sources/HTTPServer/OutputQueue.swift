import Foundation

/// A FIFO of wire bytes waiting for the socket, consumed from the front as `send` takes them.
struct OutputQueue {
    private var chunks: [Data] = []
    private var head = 0
    /// Bytes of `chunks[head]` already sent.
    private var offset = 0
    /// Bytes still queued.
    private(set) var byteCount = 0

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ data: Data) {
        guard !data.isEmpty else { return }
        chunks.append(data)
        byteCount += data.count
    }

    /// Calls `body` with the unsent bytes of the front chunk; it returns how many it consumed.
    mutating func withFront(_ body: (UnsafeRawBufferPointer) -> Int) -> Int? {
        guard head < chunks.count else { return nil }
        let consumed = chunks[head].withUnsafeBytes { bytes in
            body(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
        if consumed > 0 { consume(consumed) }
        return consumed
    }

    private mutating func consume(_ count: Int) {
        byteCount -= count
        offset += count
        if offset >= chunks[head].count {
            offset = 0
            head += 1
            if head > 64 || head == chunks.count {
                chunks.removeFirst(head)
                head = 0
            }
        }
    }

    mutating func removeAll() {
        chunks.removeAll()
        head = 0
        offset = 0
        byteCount = 0
    }
}
