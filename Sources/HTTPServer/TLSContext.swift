import COpenSSL
import Foundation

/// An OpenSSL server context holding the certificate chain and private key; shared by every
/// connection (OpenSSL allows creating sessions from one context on many threads once it is set up).
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer

    init(certificatePath: String, privateKeyPath: String) throws {
        for path in [certificatePath, privateKeyPath] where !FileManager.default.isReadableFile(atPath: path) {
            let reason = FileManager.default.fileExists(atPath: path) ? "the file is not readable" : "the file does not exist"
            throw HTTPServerError.tlsSetupFailed(file: path, reason: reason)
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw HTTPServerError.tlsSetupFailed(file: certificatePath, reason: "SSL_CTX_new failed: \(Self.lastErrorText())")
        }
        self.context = context
        _ = copenssl_ctx_set_min_proto_tls12(context)
        _ = copenssl_ctx_set_mode(context, copenssl_release_buffers_mode())
        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw HTTPServerError.tlsSetupFailed(file: certificatePath,
                                                 reason: "not a usable PEM certificate chain (\(Self.lastErrorText()))")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw HTTPServerError.tlsSetupFailed(file: privateKeyPath,
                                                 reason: "not a usable unencrypted PEM private key (\(Self.lastErrorText()))")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw HTTPServerError.tlsSetupFailed(file: privateKeyPath,
                                                 reason: "the key does not match the certificate \(certificatePath)")
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// The text of the oldest error on this thread's OpenSSL error queue, emptying the queue.
    static func lastErrorText() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "no OpenSSL error recorded" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return decodeCString(buffer)
    }
}
