import ArgumentParser
import Foundation
import TreeforgeCore

/// `treeforge prune`: old commits of a ref, their objects and their builds' details.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete a ref's old commits, the objects only they used, and their builds' details.")

    @Option(help: "The OSTree repository.") var repo: String = "repo"
    @Option(help: "The ref whose history to prune.") var ref: String
    @Option(help: "Keep this many newest commits.") var keepLast: Int?
    @Option(help: "Keep commits younger than this (30d, 12h, 2w, 90m, 45s).") var keepYoungerThan: String?
    @Option(help: "How long deltas to deleted commits stay served (by treeforge serve) for clients holding the old summary.")
    var deltaGracePeriod = "1d"

    func validate() throws {
        guard (keepLast == nil) != (keepYoungerThan == nil) else {
            throw ValidationError("give exactly one of --keep-last and --keep-younger-than")
        }
        if let keepLast, keepLast < 1 { throw ValidationError("--keep-last must be at least 1 (the ref's head is always kept)") }
        guard Pruner.parseAge(deltaGracePeriod) != nil else {
            throw ValidationError("--delta-grace-period: not an age: \(deltaGracePeriod) (examples: 1d, 12h)")
        }
        if let keepYoungerThan, Pruner.parseAge(keepYoungerThan) == nil {
            throw ValidationError("--keep-younger-than: not an age: \(keepYoungerThan) (examples: 30d, 12h, 2w)")
        }
    }

    /// The server's pid: a lane child the server starts dies with it.
    @Option(help: .hidden) var serverPid: Int32?

    func run() throws {
        if let serverPid, !ComposeChildLifetime.dieWith(parent: serverPid) {
            throw ValidationError("--server-pid \(serverPid): that process is gone")
        }
        let policy: Pruner.Policy = keepLast.map { .keepLast($0) } ?? .keepYoungerThan(Pruner.parseAge(keepYoungerThan!)!)
        try TerminalOutput.reportingErrors { _ in
            var pruner = Pruner(repoPath: URL(fileURLWithPath: repo))
            pruner.deltaGracePeriod = Pruner.parseAge(deltaGracePeriod)!
            let report = try pruner.prune(ref: ref, policy: policy)
            print("Kept \(report.kept.count) commit\(report.kept.count == 1 ? "" : "s") of \(ref); deleted \(report.deleted.count)")
            for commit in report.deleted { print("  deleted \(commit)") }
            print("Objects removed: \(report.objectsPruned) (\(TerminalOutput.bytes(report.bytesFreed))); builds pruned: \(report.buildsPruned)")
            if report.deltasRetired > 0 {
                print("Deltas to deleted commits: \(report.deltasRetired), out of the summary, served by treeforge serve for \(deltaGracePeriod)")
            }
        }
    }
}
