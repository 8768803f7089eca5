/// How a request's tokens are produced.
///
/// `.autoregressive` feeds one token per base forward pass (one KV entry per token).
/// `.hamburger` merges the previous macro step's group into one input and emits several tokens per
/// pass (see shared/design/HAMBURGER.md); the engine refuses it until the adapter is wired in.
public enum DecodingMode: Sendable, Equatable, Hashable {
    case autoregressive
    /// HAMburger macro steps; a micro step ends once `1 - stop < confidence` (confidence in (0, 1]),
    /// and a micro token whose probability under the micro decoder is below `minProbability` (in
    /// [0, 1); 0 = off) is dropped, ending the step before it.
    case hamburger(confidence: Float, minProbability: Float = 0)

    /// The mode's name as the CLI and the API spell it.
    public var name: String {
        switch self {
        case .autoregressive: return "autoregressive"
        case .hamburger: return "hamburger"
        }
    }
}
