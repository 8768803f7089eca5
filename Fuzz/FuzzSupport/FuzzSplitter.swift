/// Cuts an input into pieces at positions the input itself chooses, so a fuzzer explores how a
/// byte-fed parser behaves when the same bytes arrive in different reads.
public struct FuzzSplitter {
    /// The first byte picks the piece length pattern; the rest is the payload.
    public static func pieces(of input: UnsafeRawBufferPointer) -> (payload: [UInt8], cuts: [Int]) {
        guard let seed = input.first else { return ([], []) }
        let payload = Array(input.dropFirst())
        var cuts: [Int] = []
        var state = UInt32(seed) &* 2_654_435_761 | 1
        var position = 0
        while position < payload.count {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            // Mostly short reads (1...8 bytes), sometimes long ones, as sockets deliver.
            let step = state % 4 == 0 ? Int(state % 97) + 1 : Int(state % 8) + 1
            position = min(payload.count, position + step)
            cuts.append(position)
        }
        return (payload, cuts)
    }
}
