import Foundation

/// `--write-composejson-to`: what rpm-ostree's compose JSON tells a pipeline
/// about a new commit (ref, checksums, version, timestamp, input hash,
/// object counts) and the package changes from its parent.
public enum ComposeJSON {
    public static func write(to file: URL, ref: String, committed: Committer.Result, inputHash: String,
                             packageDiff: BuildDiff?) throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var fields: [(String, JSONValue)] = [
            ("ref", .string(ref)),
            ("ostree-commit", .string(committed.commit)),
            ("ostree-content-checksum", committed.contentChecksum.map(JSONValue.string) ?? .null),
            ("ostree-version", .string(committed.version)),
            ("ostree-timestamp", .string(formatter.string(from: committed.timestamp))),
            ("treeforge-inputhash", .string(inputHash)),
            ("ostree-n-metadata-total", .uint(UInt64(committed.stats.metadataObjectsTotal))),
            ("ostree-n-metadata-written", .uint(UInt64(committed.stats.metadataObjectsWritten))),
            ("ostree-n-content-total", .uint(UInt64(committed.stats.contentObjectsTotal))),
            ("ostree-n-content-written", .uint(UInt64(committed.stats.contentObjectsWritten))),
            ("ostree-content-bytes-written", .uint(committed.stats.contentBytesWritten)),
        ]
        if let parent = committed.parent { fields.append(("ostree-parent-commit", .string(parent))) }
        if let diff = packageDiff {
            let change = { (c: BuildDiff.Change) -> JSONValue in
                .object([("name", .string(c.name)), ("arch", .string(c.arch)), ("from", .string(c.from)), ("to", .string(c.to))])
            }
            fields.append(("pkgdiff", .object([
                ("added", .array(diff.added.map(JSONValue.string))), ("removed", .array(diff.removed.map(JSONValue.string))),
                ("upgraded", .array(diff.upgraded.map(change))), ("downgraded", .array(diff.downgraded.map(change))),
            ])))
        }
        try Data((JSONValue.object(fields).prettyString + "\n").utf8).write(to: file, options: .atomic)
    }
}

extension BuildPackage {
    init(_ package: ResolvedPackage) {
        self.init(buildId: 0, name: package.name, epoch: package.epoch, version: package.version, release: package.release,
                  arch: package.arch, repo: package.repository, downloadSize: Int64(package.downloadSize),
                  installSize: Int64(package.installSize), checksum: package.checksum)
    }
}
