import Foundation
import LibOSTree

/// `treeforge prune`: drops a ref's old commits, the objects only they
/// reached, and the details of the builds that made them; then regenerates
/// the summary. A commit another ref still reaches is never deleted, nor is
/// the ref's head.
///
/// Holds the ref's lock (no compose of the ref runs meanwhile) and writes the
/// summary under the repository's summary lock.
///
/// Blocks while libostree walks the repository: not for the cooperative pool.
public struct Pruner {
    public var repoPath: URL
    /// How long a delta to a deleted commit is still served (`RetiredDeltas`).
    public var deltaGracePeriod = RetiredDeltas.defaultGracePeriod

    public enum Policy: Sendable {
        case keepLast(Int)
        case keepYoungerThan(TimeInterval)
    }

    public struct Report: Sendable {
        public var kept: [String]
        public var deleted: [String]
        public var objectsPruned: Int
        public var bytesFreed: UInt64
        public var buildsPruned: Int
        /// Deltas to deleted commits, out of the summary, served for the grace period.
        public var deltasRetired: Int
    }

    public init(repoPath: URL) {
        self.repoPath = repoPath
    }

    public func prune(ref: String, policy: Policy, now: Date = Date()) throws -> Report {
        let subject = "ref \(ref) in \(repoPath.path)"
        guard FileManager.default.fileExists(atPath: repoPath.appendingPathComponent("config").path) else {
            throw ComposeError(.publish, subject: repoPath.path, "no OSTree repository here")
        }
        let refLock = RepositoryLock.ref(ref, in: repoPath)
        try refLock.acquire(as: .init(build: nil), wait: true, stage: .publish)
        defer { refLock.release() }
        do {
            let repo = try OSTreeRepository.open(path: repoPath.path)
            guard let head = try repo.resolve(ref: ref) else {
                throw ComposeError(.publish, subject: subject, "no such ref")
            }
            let history = try repo.history(from: head)
            let keepCount: Int
            switch policy {
            case .keepLast(let count):
                keepCount = max(1, count)
            case .keepYoungerThan(let age):
                let cutoff = now.addingTimeInterval(-age)
                keepCount = max(1, history.prefix { $0.timestamp >= cutoff }.count)
            }
            // What other refs reach stays, whatever this ref's policy says.
            var protected = Set<String>()
            for (other, commit) in try repo.refs() where other != ref {
                protected.formUnion(try repo.history(from: commit).map(\.checksum))
            }
            let kept = Array(history.prefix(keepCount))
            let doomed = history.dropFirst(keepCount).map(\.checksum).filter { !protected.contains($0) }
            for commit in doomed { try repo.deleteCommit(commit) }
            // Deltas to a deleted commit leave the summary, but stay served a
            // while for clients that read the old one; deltas from one still
            // serve its clients.
            let deltas = RetiredDeltas(repo: repoPath)
            let retired = try deltas.retireDeltas(toMissingCommits: { try repo.hasCommit($0) }, now: now)
            deltas.removeExpired(gracePeriod: deltaGracePeriod, now: now)
            let result = try repo.pruneUnreachable()
            try RepositoryLock.summary(in: repoPath).withLock(as: .init(build: nil), stage: .publish) {
                try repo.regenerateSummary()
            }

            let store = try BuildStore(repoPath: repoPath)
            let oldestKept = kept.last?.timestamp ?? now
            let builds = try store.builds(ref: ref).filter { build in
                guard build.prunedAt == nil, build.status.isFinished else { return false }
                if let commit = build.commit { return doomed.contains(commit) }
                // Failed and interrupted builds from before the oldest kept commit go with them.
                return build.startedAt < oldestKept
            }
            try store.pruneDetails(of: builds.compactMap(\.id), at: now)
            return Report(kept: kept.map(\.checksum), deleted: doomed, objectsPruned: result.objectsPruned,
                          bytesFreed: result.bytesFreed, buildsPruned: builds.count, deltasRetired: retired.count)
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: subject, "cannot prune: \(error)")
        }
    }

    /// `30d`, `12h`, `2w`, `90m`, `45s` (or plain seconds).
    public static func parseAge(_ text: String) -> TimeInterval? {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        if let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value >= 0 {
            return value * scale
        }
        return Double(text).flatMap { $0 >= 0 ? $0 : nil }
    }
}
