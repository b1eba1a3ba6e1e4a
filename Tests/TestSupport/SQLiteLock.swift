import Foundation

/// A `sqlite3` process holding a database's write lock (`BEGIN EXCLUSIVE`)
/// until released: another process keeping the build database locked, for
/// real. The lock is held once the initializer returns.
public final class SQLiteLock: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    public var pid: Int32 { process.processIdentifier }

    public init(_ database: URL) throws {
        let marker = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("treeforge-sqlite-lock-\(UUID().uuidString)")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [database.path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // sqlite3 buffers what it prints into a pipe: a file it creates says
        // that the statement before it has run.
        try input.fileHandleForWriting.write(contentsOf: Data("BEGIN EXCLUSIVE;\n.shell touch \(marker.path)\n".utf8))
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: marker.path) {
            guard process.isRunning, Date() < deadline else {
                release()
                throw FixtureError("sqlite3 did not take the lock on \(database.path)")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        try? FileManager.default.removeItem(at: marker)
    }

    /// Ends the session (end of input: sqlite3 rolls back and exits).
    public func release() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            // SIGKILL: a child of a test's worker thread may have SIGTERM blocked.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    deinit { release() }
}
