import COpenSSL
import Foundation

/// One TLS server session over memory BIOs: the connection feeds it ciphertext read from the socket
/// and writes out the ciphertext it produces, so OpenSSL never touches the non-blocking socket and
/// never needs WANT_WRITE handling. Used only on its connection's queue.
final class TLSSession {
    /// What feeding ciphertext produced.
    struct Received {
        var plaintext = Data()
        /// The peer sent close_notify.
        var peerClosed = false
        /// The handshake or a record failed; the connection must be dropped.
        var failure: String?
    }

    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer

    init?(context: TLSContext) {
        guard let ssl = SSL_new(context.context) else { return nil }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL now owns both BIOs
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
    }

    deinit {
        SSL_free(ssl)
    }

    /// Feeds ciphertext from the socket; returns the plaintext it completes (driving the handshake
    /// first as needed). Any bytes OpenSSL wants to send meanwhile wait in `takeCiphertext()`.
    func receive(_ ciphertext: UnsafeRawBufferPointer) -> Received {
        var result = Received()
        var offset = 0
        while offset < ciphertext.count, let base = ciphertext.baseAddress {
            let written = BIO_write(readBIO, base + offset, Int32(clamping: ciphertext.count - offset))
            guard written > 0 else {
                result.failure = "BIO_write failed"
                return result
            }
            offset += Int(written)
        }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                result.plaintext.append(contentsOf: buffer[0..<Int(count)])
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return result
            case SSL_ERROR_ZERO_RETURN:
                result.peerClosed = true
                return result
            default:
                result.failure = TLSContext.lastErrorText()
                return result
            }
        }
    }

    /// Encrypts plaintext; the records wait in `takeCiphertext()`. Returns false on a fatal error.
    func send(_ plaintext: Data) -> Bool {
        guard !plaintext.isEmpty else { return true }
        return plaintext.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                ERR_clear_error()
                let piece = Int32(clamping: min(bytes.count - offset, 1 << 20))
                let written = SSL_write(ssl, base + offset, piece)
                guard written > 0 else { return false }
                offset += Int(written)
            }
            return true
        }
    }

    /// Queues a close_notify alert.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    /// The ciphertext OpenSSL produced since the last call (handshake records, data, alerts).
    func takeCiphertext() -> Data {
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while BIO_ctrl_pending(writeBIO) > 0 {
            let count = buffer.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { break }
            output.append(contentsOf: buffer[0..<Int(count)])
        }
        return output
    }
}
