import Foundation
import Testing
@testable import HTTPServer

/// Runs a command-line tool; returns its exit status and standard output.
func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// HTTPS with a self-signed certificate made by `openssl req` in the test, spoken to by `curl -k`.
@Suite struct HTTPServerTLSTests {
    /// A fresh directory holding `cert.pem` and `key.pem` for CN=localhost.
    static func makeCertificate() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try runTool("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
        ])
        guard result.status == 0 else { throw TestHTTPClient.Failure(description: "openssl req failed") }
        return directory
    }

    @Test func servesHTTPSToCurl() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = HTTPServerConfiguration()
        configuration.tls = .init(certificatePath: directory.appendingPathComponent("cert.pem").path,
                                  privateKeyPath: directory.appendingPathComponent("key.pem").path)
        let big = String(repeating: "0123456789", count: 5000)
        let handler: @Sendable (HTTPRequest, HTTPResponder) -> Void = { request, responder in
            switch request.path {
            case "/stream":
                responder.startStream()
                for index in 0..<3 { responder.write(Data("part\(index);".utf8)) }
                responder.finish()
            case "/big":
                responder.send(HTTPResponse(text: big))
            default:
                echoHandler(request, responder)
            }
        }
        try withServer(configuration, handler: handler) { server in
            let base = "https://127.0.0.1:\(server.port)"
            let plain = try runTool("/usr/bin/curl", ["-k", "-s", "-S", "--max-time", "10", "\(base)/hello"])
            #expect(plain.status == 0)
            #expect(plain.output == "GET /hello 0 127.0.0.1")
            // Two requests on one TLS connection, a streamed one and a large gzip-coded one.
            let reused = try runTool("/usr/bin/curl", ["-k", "-s", "-S", "--max-time", "10", "--compressed",
                                                       "\(base)/stream", "\(base)/big"])
            #expect(reused.status == 0)
            #expect(reused.output == "part0;part1;part2;" + big)
            let posted = try runTool("/usr/bin/curl", ["-k", "-s", "-S", "--max-time", "10", "-d", "abc", "\(base)/post"])
            #expect(posted.output == "POST /post 3 127.0.0.1")
        }
    }

    @Test func plaintextClientOnTLSPortIsDropped() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = HTTPServerConfiguration()
        configuration.tls = .init(certificatePath: directory.appendingPathComponent("cert.pem").path,
                                  privateKeyPath: directory.appendingPathComponent("key.pem").path)
        try withServer(configuration, handler: echoHandler) { server in
            let client = try TestHTTPClient(host: "127.0.0.1", port: server.port)
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            let reply = client.readToEnd()
            #expect(!reply.starts(with: Data("HTTP/".utf8)))  // at most a TLS alert, never HTTP
            #expect(eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func setupFailuresNameTheFile() throws {
        let missing = HTTPServerConfiguration(tls: .init(certificatePath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem"))
        #expect(throws: HTTPServerError.tlsSetupFailed(file: "/nonexistent/cert.pem", reason: "the file does not exist")) {
            _ = try HTTPServer(configuration: missing, handler: HTTPClosureHandler(echoHandler))
        }
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage.pem")
        try Data("not a certificate".utf8).write(to: garbage)
        let bad = HTTPServerConfiguration(tls: .init(certificatePath: garbage.path,
                                                     privateKeyPath: directory.appendingPathComponent("key.pem").path))
        do {
            _ = try HTTPServer(configuration: bad, handler: HTTPClosureHandler(echoHandler))
            Issue.record("a garbage certificate was accepted")
        } catch let error as HTTPServerError {
            guard case .tlsSetupFailed(let file, _) = error else { Issue.record("\(error)"); return }
            #expect(file == garbage.path)
            #expect(error.description.contains(garbage.path))
        }
    }
}
