import Foundation
import LibOSTree

/// Publishes a commit for mirrors and clients: static deltas from the ref's
/// previous commits (and from scratch when the policy says so), then the
/// summary, regenerated only once every delta is completely written so it
/// never indexes a half-made one, then its signature. The summary and delta
/// index are the repository's, not one ref's: they are written under the
/// repository's summary lock.
///
/// A delta already complete is not generated again, so publishing resumes
/// where an interrupted one stopped.
///
/// Blocks (xz compression of delta parts): not for the cooperative pool.
public struct Publisher: ComposeStage {
    public static let stage = Stage.publish

    public var repository: OSTreeRepository
    public var policy: PublishPolicy
    /// Who publishes, for the summary lock's holder note.
    public var build: Int64?

    public init(repository: OSTreeRepository, policy: PublishPolicy) {
        self.repository = repository
        self.policy = policy
    }

    public struct PublishedDelta: Sendable, Equatable {
        public var from: String?
        public var to: String
        public var size: UInt64
        public var parts: Int
    }

    /// The deltas the policy wants for `commit`: from each of its previous
    /// `deltaDepth` commits still in the repository, and from nothing.
    func deltaSources(for commit: String) throws -> [String?] {
        let depth = max(0, policy.deltaDepth)
        // Only as far back as the deltas go: a ref's history can be long.
        var sources: [String?] = try repository.history(from: commit, limit: depth + 1).dropFirst().map(\.checksum)
        if policy.wantsFromScratch(repository) { sources.append(nil) }
        return sources
    }

    public func run(_ commit: String, in context: StageContext) throws -> [PublishedDelta] {
        do {
            var published: [PublishedDelta] = []
            let cancellable = OSTreeCancellable()
            let stopOnCancel = context.cancellation.onCancel { cancellable.cancel() }
            defer { stopOnCancel.end() }
            for from in try deltaSources(for: commit) {
                try context.cancellation.check(.publish)
                if !repository.hasStaticDelta(from: from, to: commit) {
                    do {
                        try repository.generateStaticDelta(from: from, to: commit, options: policy.deltaOptions, cancellable: cancellable)
                    } catch let error as OSTreeError where !error.isCancellation {
                        throw ComposeError(.publish, subject: "delta \(from ?? "(scratch)") → \(commit)", "cannot generate the static delta: \(error)")
                    }
                }
                published.append(Self.measure(repository.staticDeltaDirectory(from: from, to: commit), from: from, to: commit))
            }
            context.reached(.publish, step: 1)
            try context.cancellation.check(.publish)
            try writeSummary(context)
            return published
        } catch let error as OSTreeError where error.isCancellation {
            throw context.cancellation.cancelled(in: .publish)
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: repository.path, "cannot publish: \(error)")
        }
    }

    /// The summary (with the delta index), then its signature when the policy
    /// signs, under the repository's summary lock.
    func writeSummary(_ context: StageContext) throws {
        let lock = RepositoryLock.summary(in: URL(fileURLWithPath: repository.path))
        try lock.withLock(as: .init(build: build), stage: .publish, cancellation: context.cancellation,
                          waiting: { holder in context.events.emit(.waiting(ref: "(summary)", holder: holder?.description ?? "another process")) }) {
            try repository.regenerateSummary()
            context.reached(.publish, step: 2)
            if let key = policy.gpgKey {
                do {
                    try repository.signSummary(with: key)
                } catch let error as OSTreeError {
                    throw ComposeError(.publish, subject: "GPG key \(key.id)", "cannot sign the summary: \(error)")
                }
            }
        }
    }

    public func identity(of commit: String, output: [PublishedDelta]) throws -> [String] {
        let options = policy.deltaOptions
        return [
            "commit \(commit)",
            "delta-depth \(policy.deltaDepth) from-scratch \(policy.wantsFromScratch(repository))",
            "delta-options \(options.minFallbackSizeMiB) \(options.maxChunkSizeMiB) \(options.bsdiff) \(options.inlineParts)",
            "gpg-key \(policy.gpgKey?.id ?? "-")",
        ]
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
