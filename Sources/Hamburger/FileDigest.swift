import COpenSSL
import Foundation

/// SHA-256 of a file (OpenSSL's EVP digest, streamed in 1 MiB reads): how an adapter checks that the
/// base model file is the one it was trained on. About a third of a second for the 98 MB base; done
/// once at load, never on the serving path.
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    public static func sha256(path: String) throws(HamburgerError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadableFile(path: path, reason: "it does not exist or is not readable")
        }
        defer { try? handle.close() }
        guard let context = EVP_MD_CTX_new() else { throw .unreadableFile(path: path, reason: "OpenSSL could not allocate a digest") }
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw .unreadableFile(path: path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
