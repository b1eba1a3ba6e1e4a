import Foundation
import LibOSTree

/// Publishes a new commit for mirrors and clients: static deltas from the
/// ref's previous commits (and from scratch when asked), then the summary,
/// regenerated only once every delta is completely written so it never
/// indexes a half-made one.
///
/// Blocks (xz compression of delta parts): not for the cooperative pool.
public struct Publisher: ComposeStage {
    public static let stage = Stage.publish

    public var repoPath: URL
    /// Deltas from this many previous commits of the ref (0: none).
    public var deltaDepth = 2
    /// Also a delta from nothing (a fresh client's first pull); it compresses
    /// the whole tree, so it is off by default.
    public var fromScratch = false
    public var deltaOptions = StaticDeltaOptions()
    /// Sign the summary (GPG).
    public var gpgKey: GPGKey?

    public init(repoPath: URL) {
        self.repoPath = repoPath
    }

    public struct PublishedDelta: Sendable, Equatable {
        public var from: String?
        public var to: String
        public var size: UInt64
        public var parts: Int
    }

    public func run(_ commit: String, progress: ComposeProgress) throws -> [PublishedDelta] {
        do {
            let repo = try OSTreeRepository.open(path: repoPath.path)
            let previous = try repo.history(from: commit).dropFirst().prefix(deltaDepth).map(\.checksum)
            var sources: [String?] = previous
            // The flag, or the repository's own setting: `[treeforge] static-delta-from-scratch=true` in its config.
            if fromScratch || repo.configBool(group: "treeforge", key: "static-delta-from-scratch") == true {
                sources.append(nil)
            }
            var published: [PublishedDelta] = []
            for from in sources {
                do {
                    try repo.generateStaticDelta(from: from, to: commit, options: deltaOptions)
                } catch let error as OSTreeError {
                    throw ComposeError(.publish, subject: "delta \(from ?? "(scratch)") → \(commit)", "cannot generate the static delta: \(error)")
                }
                published.append(Self.measure(repo.staticDeltaDirectory(from: from, to: commit), from: from, to: commit))
            }
            try repo.regenerateSummary()
            if let key = gpgKey {
                do {
                    try repo.signSummary(with: key)
                } catch let error as OSTreeError {
                    throw ComposeError(.publish, subject: "GPG key \(key.id)", "cannot sign the summary: \(error)")
                }
            }
            return published
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: repoPath.path, "cannot publish: \(error)")
        }
    }

    /// Bytes on disk, and the number of separate parts (files named 0, 1, …).
    static func measure(_ directory: URL, from: String?, to: String) -> PublishedDelta {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let size = files.reduce(UInt64(0)) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)
            return total + ((attributes?[.size] as? NSNumber)?.uint64Value ?? 0)
        }
        return PublishedDelta(from: from, to: to, size: size, parts: files.filter { Int($0) != nil }.count)
    }
}

/// The signing key type, for the command line (which imports only TreeforgeCore).
public typealias GPGKey = LibOSTree.GPGKey
