import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// What the stock `ostree` and `sqlite3` tools say a harness repository
/// publishes and records: the oracles of the kill and publish-recovery
/// tests, independent of treeforge's own readers.
extension ComposeHarness {
    /// The commit the summary lists for the ref (`ostree summary --view`):
    /// nil without a summary, or when the summary does not list the ref.
    func summaryCommit() throws -> String? {
        guard FileManager.default.fileExists(atPath: repo.appendingPathComponent("summary").path) else { return nil }
        let lines = try Oracle.ostree(repo, ["summary", "--view"]).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let entry = lines.firstIndex(of: "* \(ref)") else { return nil }
        // "* REF", "Latest Commit (3.5 kB):", then the checksum on a line of its own.
        return lines[(entry + 1)...].prefix(3).first { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }
    }

    /// The static deltas `ostree static-delta list` names: `FROM-TO`, or
    /// `TO` for one from scratch.
    func staticDeltas() throws -> Set<String> {
        Set(try Oracle.ostree(repo, ["static-delta", "list"]).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("(") })
    }

    /// The commit's parent, or nil for a first commit.
    func parent(of commit: String) throws -> String? {
        try Oracle.ostreeRev(repo, commit + "^")
    }

    /// A build row's status, commit and publishedAt, as the sqlite3 CLI reads them.
    func buildRow(_ id: Int) throws -> (status: String, commit: String, publishedAt: String) {
        let columns = try buildColumns(id, ["status", "commit", "publishedAt"])
        guard columns.count == 3 else { throw FixtureError("no build row \(id): \(columns)") }
        return (columns[0], columns[1], columns[2])
    }

    /// The rows that say `succeeded` of the ref's head while the summary
    /// does not list that head: a build recorded as done whose commit no
    /// mirror or client can see.
    func succeededButUnpublishedRows() throws -> [Int] {
        guard let head = try Oracle.ostreeRev(repo, ref), try summaryCommit() != head else { return [] }
        return try buildRows().filter { $0.status == "succeeded" && $0.commit == head }.map(\.id)
    }

    /// Applies the static delta `from → to` with the stock client into a
    /// fresh `bare-user` repository holding only `from`, then fscks it: a
    /// delta that is cut short or does not match its superblock fails here.
    func applyDelta(from: String, to: String) throws {
        let client = dir.path("client-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: client) }
        try Oracle.ostree(client, ["init", "--mode=bare-user"])
        try Oracle.ostree(client, ["pull-local", repo.path, from])
        // ostree names a delta folder by the checksums in its modified base64 ("/" as "_", no padding).
        func base64(_ checksum: String) -> String {
            let bytes = stride(from: 0, to: checksum.count, by: 2).map { offset -> UInt8 in
                let start = checksum.index(checksum.startIndex, offsetBy: offset)
                return UInt8(checksum[start..<checksum.index(start, offsetBy: 2)], radix: 16)!
            }
            return Data(bytes).base64EncodedString().replacingOccurrences(of: "/", with: "_")
                .trimmingCharacters(in: CharacterSet(charactersIn: "="))
        }
        let name = "\(base64(from))-\(base64(to))"
        let superblock = repo.appendingPathComponent("deltas/\(name.prefix(2))/\(name.dropFirst(2))/superblock")
        try Oracle.ostree(client, ["static-delta", "apply-offline", superblock.path])
        try Oracle.ostree(client, ["fsck"])
        try Oracle.ostree(client, ["show", to])
    }
}

/// The events a compose wrote with `--progress=json`, in order: every whole
/// line (a killed compose's last one may be half written).
struct ComposeEvents {
    let events: [ComposeEvent]

    init(_ events: [ComposeEvent]) { self.events = events }

    init(stdout: String) throws {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        events = try lines.map { try ComposeEventLine.decoder().decode(ComposeEventLine.self, from: Data($0.utf8)).event }
    }

    /// The build the compose announced.
    var build: Int? {
        events.lazy.compactMap { if case .buildStarted(let build, _, _, _) = $0 { Int(build) } else { nil } }.first
    }

    var warnings: [String] { events.compactMap { if case .warning(let message) = $0 { message } else { nil } } }

    /// The unpublished heads the compose published first: commit, owning build, what was missing.
    var publishResumed: [(commit: String, build: Int64?, missing: [String])] {
        events.compactMap { if case .publishResumed(_, let commit, let build, let missing) = $0 { (commit, build, missing) } else { nil } }
    }

    var stagesStarted: [Stage] { events.compactMap { if case .stageStarted(let stage) = $0 { stage } else { nil } } }

    /// Each finished stage's duration in seconds.
    var stageSeconds: [Stage: Double] {
        Dictionary(events.compactMap { if case .stageFinished(let stage, let seconds, _) = $0 { (stage, seconds) } else { nil } },
                   uniquingKeysWith: { $1 })
    }

    var outcome: ComposeResult? { events.lazy.compactMap { if case .outcome(let result) = $0 { result } else { nil } }.first }

    /// Where the events stop: "in STAGE" when a stage started and did not
    /// finish, "after STAGE" between stages, "after the outcome" when the
    /// compose ended.
    var whereItStopped: String {
        guard outcome == nil else { return "after the outcome" }
        for event in events.reversed() {
            if case .stageStarted(let stage) = event { return "in \(stage)" }
            if case .stageFinished(let stage, _, _) = event { return "after \(stage)" }
        }
        return "before any stage"
    }
}
