import Foundation

/// Published means pulled: the stock `ostree` client pulls the ref's new
/// head from the repository's URL (the compose server's own `/repo/`) into
/// a fresh `bare-user` repository, as a host would, and must end at exactly
/// that commit. Catches what writing files cannot: a summary or delta the
/// server does not serve, an object the client rejects.
struct PullCheck {
    let url: URL
    let ref: String
    let commit: String
    /// An empty folder for the client's repository (removed afterwards).
    let scratch: URL
    var timeout: TimeInterval = 600

    /// What the client did, one line for the build record; a `publish` error
    /// with the client's own words when it failed.
    func run(cancellation: Cancellation) throws -> String {
        let started = Date()
        let client = scratch.appendingPathComponent("pull-check")
        try? FileManager.default.removeItem(at: client)
        defer { try? FileManager.default.removeItem(at: client) }
        let ostree = try Self.ostreeExecutable()
        let repo = "--repo=\(client.path)"
        try step([ostree, repo, "init", "--mode=bare-user"], cancellation)
        // http2=false: the server answers HTTP/1.1, and the connection is then kept alive.
        try step([ostree, repo, "remote", "add", "--no-gpg-verify", "--set=http2=false", "check", url.absoluteString], cancellation)
        try step([ostree, repo, "pull", "check", ref], cancellation)
        let pulled = try step([ostree, repo, "rev-parse", ref], cancellation).trimmingCharacters(in: .whitespacesAndNewlines)
        guard pulled == commit else {
            throw ComposeError(.publish, subject: url.absoluteString,
                               "the stock ostree client pulled \(ref) at \(pulled), not the new head \(commit): the summary it read is not the one just written")
        }
        return String(format: "pulled %@ at %@ from %@ with the stock ostree client in %.1f s", ref, commit, url.absoluteString,
                      Date().timeIntervalSince(started))
    }

    @discardableResult
    private func step(_ arguments: [String], _ cancellation: Cancellation) throws -> String {
        let output = Pipe()
        let log = scratch.appendingPathComponent("pull-check.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        let process = SupervisedProcess(arguments: arguments, environment: ProcessInfo.processInfo.environment,
                                        standardOutput: output, standardError: logHandle)
        let collected = LockedData()
        let reader = Thread { collected.append(output.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let exit = try process.run(timeout: timeout, cancellation: cancellation)
        try cancellation.check(.publish)
        let stdout = collected.waitText()
        let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let command = arguments.dropFirst().filter { !$0.hasPrefix("--repo=") }.joined(separator: " ")
        switch exit {
        case .exited(status: 0):
            return stdout
        case .exited(let status):
            throw ComposeError(.publish, subject: url.absoluteString,
                               "the stock ostree client cannot pull the new head \(commit.prefix(12)) (`ostree \(command)` exited \(status)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        case .timedOut(let seconds):
            throw ComposeError(.publish, subject: url.absoluteString,
                               "the stock ostree client did not finish `ostree \(command)` within \(Int(seconds)) s")
        }
    }

    static func ostreeExecutable() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") + ["/usr/bin"] where FileManager.default.isExecutableFile(atPath: "\(folder)/ostree") {
            return "\(folder)/ostree"
        }
        throw ComposeError(.publish, subject: "ostree", "--verify-pull needs the stock ostree client (Debian: apt-get install ostree)")
    }
}

/// Bytes a reader thread collects, and a wait for it to finish.
private final class LockedData: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()
    func append(_ chunk: Data) {
        data = chunk
        done.signal()
    }
    func waitText() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
