import Foundation
import LibOSTree

/// Commits an installed root to an OSTree repository as the ref's next
/// version. The ref moves only when the repository transaction commits.
///
/// Blocks for the whole write (libostree is synchronous): call it from a
/// thread of its own, never from Swift's cooperative pool.
public struct Committer {
    public var repoPath: URL
    /// The commit's version; automatic (`YYYYMMDD.N`) when nil.
    public var version: String?
    /// More commit metadata (the build id, the input hash).
    public var extraMetadata: [String: CommitMetadataValue] = [:]
    /// False writes the commit but leaves the ref where it was.
    public var moveRef = true

    public init(repoPath: URL, version: String? = nil) {
        self.repoPath = repoPath
        self.version = version
    }

    public struct Result: Sendable {
        public var commit: String
        public var parent: String?
        public var version: String
    }

    public func commit(root: URL, treefile: Treefile, packages: ResolvedSet, now: Date = Date()) throws -> Result {
        let repo = try openRepository()
        do {
            let parent = try repo.resolve(ref: treefile.ref)
            let previousVersion = try parent.flatMap { try repo.commitInfo($0).metadata["version"]?.string }
            let version = self.version ?? Versioning.next(after: previousVersion, now: now)
            let metadata: [String: CommitMetadataValue] = extraMetadata.merging([
                "version": .string(version),
                "ostree.ref-binding": .strings([treefile.ref]),
                "treeforge.treefile-sha256": .string(treefile.sha256),
                "treeforge.packages": .strings(packages.nevras),
            ]) { _, own in own }
            var request = CommitRequest(rootDirectory: root.path, ref: treefile.ref,
                                        subject: "\(treefile.ref) \(version)", metadata: metadata, parent: parent)
            request.moveRef = moveRef
            let checksum = try repo.commit(request)
            return Result(commit: checksum, parent: parent, version: version)
        } catch let error as OSTreeError {
            throw ComposeError(.commit, subject: "ref \(treefile.ref) in \(repoPath.path)", error.description)
        }
    }

    /// Opens the repository, creating an `archive` one (what mirrors serve)
    /// when the folder holds none yet.
    public func openRepository() throws -> OSTreeRepository {
        do {
            try FileManager.default.createDirectory(at: repoPath, withIntermediateDirectories: true)
            return try OSTreeRepository.openOrCreate(path: repoPath.path, mode: .archive)
        } catch let error as OSTreeError {
            throw ComposeError(.commit, subject: repoPath.path, "cannot open or create the OSTree repository: \(error)")
        }
    }
}

/// Automatic versions, rpm-ostree style with a date prefix: `YYYYMMDD.N`,
/// where N counts up from 0 within a day.
public enum Versioning {
    public static func next(after previous: String?, now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        let prefix = String(format: "%04d%02d%02d", parts.year!, parts.month!, parts.day!)
        if let previous, previous.hasPrefix(prefix + "."),
           let counter = Int(previous.dropFirst(prefix.count + 1)) {
            return "\(prefix).\(counter + 1)"
        }
        return "\(prefix).0"
    }
}
