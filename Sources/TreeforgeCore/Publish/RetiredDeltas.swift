import Foundation

/// Static deltas that a new summary no longer lists, kept for a grace
/// period: a client or mirror that read the summary before the prune still
/// asks for them. `treeforge prune` moves a delta to a deleted commit out of
/// `deltas/` (so the regenerated summary drops it) into
/// `<repo>/.treeforge/retired-deltas/`, where the compose server still
/// serves it under its old `/repo/deltas/…` path until the grace period
/// ends; then it is removed.
public struct RetiredDeltas: Sendable {
    public let repo: URL
    public static let defaultGracePeriod: TimeInterval = 86400

    public init(repo: URL) {
        self.repo = repo
    }

    var folder: URL { repo.appendingPathComponent(".treeforge/retired-deltas") }
    private static let stampName = "retired-at"

    /// One delta on disk: `deltas/XX/REST/`, its checksums decoded.
    struct Delta {
        /// `XX/REST`, as under `deltas/`.
        let directory: String
        let from: String?
        let to: String
    }

    /// Every complete static delta under `deltas/` (its superblock written).
    /// A delta's folder is its checksums in OSTree's modified base64 (`+` →
    /// `_`, no padding), `FROM-TO` or `TO`, the first two characters a level up.
    static func deltas(in repo: URL) -> [Delta] {
        let root = repo.appendingPathComponent("deltas")
        let files = FileManager.default
        var found: [Delta] = []
        for prefix in (try? files.contentsOfDirectory(atPath: root.path)) ?? [] {
            for rest in (try? files.contentsOfDirectory(atPath: root.appendingPathComponent(prefix).path)) ?? [] {
                guard files.fileExists(atPath: root.appendingPathComponent("\(prefix)/\(rest)/superblock").path) else { continue }
                let parts = (prefix + rest).split(separator: "-", omittingEmptySubsequences: false).map(hexChecksum)
                guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil }) else { continue }
                found.append(Delta(directory: "\(prefix)/\(rest)", from: parts.count == 2 ? parts[0] : nil, to: parts.last!!))
            }
        }
        return found.sorted { $0.directory < $1.directory }
    }

    private static func hexChecksum(_ modifiedBase64: Substring) -> String? {
        var text = modifiedBase64.replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), data.count == 32 else { return nil }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    /// Moves the deltas whose target commit `exists` says is gone out of
    /// `deltas/`, stamped with `now`; their names.
    func retireDeltas(toMissingCommits exists: (String) throws -> Bool, now: Date) throws -> [String] {
        var retired: [String] = []
        for delta in Self.deltas(in: repo) where try !exists(delta.to) {
            let target = folder.appendingPathComponent(delta.directory)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: repo.appendingPathComponent("deltas/\(delta.directory)"), to: target)
            try Data(ISO8601DateFormatter().string(from: now).utf8).write(to: target.appendingPathComponent(Self.stampName))
            retired.append(delta.directory)
        }
        return retired
    }

    /// The retired file that `deltas/RELATIVE` named, while its grace period lasts.
    public func file(forDeltaPath relative: String, gracePeriod: TimeInterval, now: Date = Date()) -> URL? {
        let parts = relative.split(separator: "/")
        guard parts.count == 3, !parts.contains(where: { $0 == ".." || $0 == "." || $0.hasPrefix(".") }),
              parts[2] != Substring(Self.stampName) else { return nil }
        let delta = folder.appendingPathComponent("\(parts[0])/\(parts[1])")
        guard let retiredAt = Self.stamp(delta), now.timeIntervalSince(retiredAt) < gracePeriod else { return nil }
        let file = delta.appendingPathComponent(String(parts[2]))
        return FileManager.default.fileExists(atPath: file.path) ? file : nil
    }

    /// Removes the retired deltas whose grace period is over; their names.
    /// Runs beside a prune that is retiring deltas, without a lock: it never
    /// removes a prefix folder (a prune may be about to move a delta into it),
    /// and a delta without its stamp yet is one being moved — unless it has
    /// lain unstamped for a whole grace period (a move cut short).
    @discardableResult
    public func removeExpired(gracePeriod: TimeInterval, now: Date = Date()) -> [String] {
        let files = FileManager.default
        var removed: [String] = []
        for prefix in (try? files.contentsOfDirectory(atPath: folder.path)) ?? [] {
            let level = folder.appendingPathComponent(prefix)
            for rest in (try? files.contentsOfDirectory(atPath: level.path)) ?? [] {
                let delta = level.appendingPathComponent(rest)
                let since = Self.stamp(delta) ?? (try? files.attributesOfItem(atPath: delta.path)[.modificationDate] as? Date) ?? now
                guard now.timeIntervalSince(since) >= gracePeriod else { continue }
                try? files.removeItem(at: delta)
                removed.append("\(prefix)/\(rest)")
            }
        }
        return removed
    }

    private static func stamp(_ delta: URL) -> Date? {
        guard let text = try? String(contentsOf: delta.appendingPathComponent(stampName), encoding: .utf8) else { return nil }
        return ISO8601DateFormatter().date(from: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
