import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// A `treeforge compose tree` started in the background, for tests that act
/// on a compose while it runs: signal it, race others against it, hold its
/// ref. Its stdout and stderr go to files, read as they grow (no pipe can
/// fill and stall it); every wait has a deadline; one still running when
/// released is killed, so no test leaves a compose behind.
final class RunningCompose {
    struct Finished {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    private let process = Process()
    private let stdoutFile: URL
    private let stderrFile: URL

    init(_ arguments: [String], environment: [String: String], outputIn folder: URL) throws {
        let name = "compose-\(UUID().uuidString)"
        stdoutFile = folder.appendingPathComponent("\(name).stdout")
        stderrFile = folder.appendingPathComponent("\(name).stderr")
        for file in [stdoutFile, stderrFile] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.executableURL = Fixtures.treeforgeExecutable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// The events written so far with `--progress json` (whole lines only:
    /// the last one may be half written).
    func events() throws -> [ComposeEvent] {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        return try lines.map { try ComposeEventLine.decoder().decode(ComposeEventLine.self, from: Data($0.utf8)).event }
    }

    /// Waits until `condition` holds; throws, with what the compose printed,
    /// when it does not within `timeout` seconds or the compose ends first.
    func waitUntil(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !(try condition()) {
            guard process.isRunning else {
                throw FixtureError("the compose ended (status \(process.terminationStatus)) before \(what)\nstdout: \(stdout)\nstderr: \(stderr)")
            }
            guard Date() < deadline else {
                throw FixtureError("no \(what) within \(Int(timeout)) s\nstdout: \(stdout)\nstderr: \(stderr)")
            }
            usleep(50_000)
        }
    }

    /// Waits for an event (`--progress json`) that `matches`.
    func waitForEvent(_ what: String, timeout: TimeInterval = 30, _ matches: @escaping (ComposeEvent) -> Bool) throws {
        try waitUntil(what, timeout: timeout) { try events().contains(where: matches) }
    }

    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the compose to exit; one still running after `timeout`
    /// seconds is killed and the wait throws.
    func finish(timeout: TimeInterval = 60) throws -> Finished {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw FixtureError("the compose still ran after \(Int(timeout)) s and was killed\nstdout: \(stdout)\nstderr: \(stderr)")
        }
        process.waitUntilExit()
        return Finished(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

extension ComposeHarness {
    /// Starts a compose in the background. Its workdir is in the test's
    /// folder unless `extra` names one, or `treeforgeMakesWorkdir` leaves it
    /// to treeforge (a fresh folder in memory or in /var/tmp).
    func start(_ treefile: URL, _ extra: [String] = [], environment: [String: String] = [:],
               treeforgeMakesWorkdir: Bool = false) throws -> RunningCompose {
        let workdir = extra.contains("--workdir") || treeforgeMakesWorkdir ? [] : ["--workdir", dir.path("work-\(UUID().uuidString)").path]
        return try RunningCompose(["compose", "tree", treefile.path, "--repo", repo.path] + workdir + extra,
                                  environment: environment, outputIn: dir.url)
    }

    /// Columns of one build row, through the sqlite3 CLI (an independent
    /// reader); NULL reads as "".
    func buildColumns(_ id: Int, _ columns: [String]) throws -> [String] {
        let select = columns.map { "coalesce(\"\($0)\", '')" }.joined(separator: ", ")
        let row = try Command.check(["sqlite3", "-separator", "\u{1F}", database.path, "select \(select) from build where id = \(id)"])
        return row.trimmingCharacters(in: .newlines).components(separatedBy: "\u{1F}")
    }

    /// The checksums of every commit object in the repository.
    func commitObjects() -> Set<String> {
        let objects = repo.appendingPathComponent("objects")
        let paths = FileManager.default.enumerator(atPath: objects.path)?.allObjects as? [String] ?? []
        return Set(paths.filter { $0.hasSuffix(".commit") }.map { $0.dropLast(".commit".count).replacingOccurrences(of: "/", with: "") })
    }

    /// The ref's history as `ostree log` walks it (each commit's parent is
    /// the next), newest first: checksum and version.
    func history() throws -> [(commit: String, version: String)] {
        var entries: [(commit: String, version: String)] = []
        for line in try Oracle.ostree(repo, ["log", ref]).split(separator: "\n") {
            if line.hasPrefix("commit ") { entries.append((String(line.dropFirst("commit ".count)), "")) }
            if line.hasPrefix("Version: "), !entries.isEmpty { entries[entries.count - 1].version = String(line.dropFirst("Version: ".count)) }
        }
        return entries
    }
}

/// Processes by their relations, read from /proc.
enum ProcessTree {
    /// Every process descended from `pid`: its children, theirs, and so on.
    static func descendants(of pid: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // "pid (comm) state ppid …": the name may hold spaces and parentheses.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(child) }
        }
        var found: [Int32] = []
        var next = children[pid] ?? []
        while let process = next.popLast() {
            found.append(process)
            next += children[process] ?? []
        }
        return found
    }

    /// Whether the process exists and has not exited (a zombie has).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    static func commandLine(_ pid: Int32) -> String {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }
}
