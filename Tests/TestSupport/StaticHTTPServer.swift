import Foundation

/// A static HTTP server on loopback serving a folder (Python's http.server),
/// for tests of remote repositories. Stops when released.
public final class StaticHTTPServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public init(serving folder: URL) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // "Serving HTTP on 127.0.0.1 port 41235 (http://127.0.0.1:41235/) ..."
        var text = ""
        while !text.contains("port ") || !text.contains("(") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"port (\d+)"#, options: .regularExpression),
              let port = Int(text[range].dropFirst(5)) else {
            process.terminate()
            throw FixtureError("http.server did not start: \(text)")
        }
        self.port = port
    }

    public var url: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    /// SIGKILL: a child started from a test's worker thread inherits its
    /// blocked signal mask, so SIGTERM would never arrive.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
