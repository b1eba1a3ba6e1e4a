import Foundation
import LibOSTree

/// What a repository offers its clients, ref by ref: the head, its version,
/// whether the summary mirrors read lists it, and the static deltas that
/// lead to it. For the compose server's `/api/v1/refs` and health checks.
/// Blocks (libostree, file IO): not for Swift's cooperative pool.
public struct RepositoryOverview: Sendable, Equatable {
    public struct Ref: Sendable, Equatable, Codable {
        public var ref: String
        public var head: String
        public var version: String?
        public var timestamp: Date?
        /// The summary lists the ref at this head.
        public var published: Bool
        /// Static deltas to the head, `FROM-TO` (`TO` alone: from scratch), as
        /// `ostree static-delta list` names them.
        public var deltas: [String]
    }

    public var refs: [Ref]
    /// When the summary was last written; nil when there is none.
    public var summaryWrittenAt: Date?
    public var summarySigned: Bool

    /// The overview of `repo`; an empty one when it holds no repository yet.
    public static func read(repo: URL) throws -> RepositoryOverview {
        guard let repository = try ComposeRepository(path: repo).existing() else {
            return RepositoryOverview(refs: [], summaryWrittenAt: nil, summarySigned: false)
        }
        do {
            let listed = try repository.summaryRefs() ?? [:]
            let deltas = Self.staticDeltas(in: repo)
            let refs = try repository.refs().sorted { $0.key < $1.key }.map { ref, head in
                let info = try? repository.commitInfo(head)
                return Ref(ref: ref, head: head, version: info?.metadata["version"]?.string, timestamp: info?.timestamp,
                           published: listed[ref] == head, deltas: deltas.filter { $0 == head || $0.hasSuffix("-" + head) })
            }
            let summary = try? FileManager.default.attributesOfItem(atPath: repo.appendingPathComponent("summary").path)
            return RepositoryOverview(refs: refs, summaryWrittenAt: summary?[.modificationDate] as? Date,
                                      summarySigned: repository.summaryIsSigned)
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: repo.path, "cannot read the repository's refs: \(error)")
        }
    }

    /// Every complete static delta, `FROM-TO` or `TO`, as full checksums.
    static func staticDeltas(in repo: URL) -> [String] {
        RetiredDeltas.deltas(in: repo).map { delta in delta.from.map { "\($0)-\(delta.to)" } ?? delta.to }
    }
}

extension RepositoryOverview {
    /// A commit's metadata as key and text, sorted by key, for the build
    /// page; nil when the repository no longer holds the commit (pruned).
    public static func commitMetadata(repo: URL, commit: String) throws -> [(key: String, value: String)]? {
        guard let repository = try ComposeRepository(path: repo).existing(), (try? repository.hasCommit(commit)) == true else { return nil }
        do {
            let info = try repository.commitInfo(commit)
            return info.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value.displayText) }
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: "commit \(commit) in \(repo.path)", "cannot read the commit's metadata: \(error)")
        }
    }
}

extension CommitMetadataValue {
    /// The value as a person reads it: a string as itself, a list one item
    /// per line, a dictionary `key: value` per line.
    public var displayText: String {
        switch self {
        case .string(let value): value
        case .strings(let values): values.joined(separator: "\n")
        case .uint64(let value): String(value)
        case .int64(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): String(value)
        case .array(let values): values.map { $0.displayText.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
        case .dictionary(let entries):
            entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.displayText.replacingOccurrences(of: "\n", with: " "))" }
                .joined(separator: "\n")
        }
    }
}
