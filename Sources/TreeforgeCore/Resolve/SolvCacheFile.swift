import Foundation
import LibSolv

/// One `.solv` cache file: libsolv's parse of a repository's primary
/// metadata, behind a short text header saying what it is the cache of and
/// how to check it:
///
///     treeforge solv cache 1
///     repo fixtures
///     key 6166e372…            (sha256 of the repomd.xml it was parsed from)
///     libsolv 0.7.23           (the version that wrote it)
///     size 7549                (bytes after the blank line)
///     sha256 0f3a…             (of those bytes)
///
/// then a blank line and libsolv's own bytes. libsolv reads a `.solv` file
/// without checking it and crashes or silently drops packages on a damaged
/// one, so the file is checked whole before libsolv sees a byte of it.
///
/// A header rather than a sidecar file: the check and the data it checks
/// are one file, written and renamed into place in one step, so they can
/// never disagree after a crash between two renames, and a file copied or
/// renamed elsewhere carries what it is (a file of another repository or
/// another repomd.xml renamed in place is refused by its `repo` and `key`).
/// `head -6` shows the header.
///
/// Public for the `solvcache` fuzz target (Fuzz/), which reads arbitrary
/// files through `read()`.
public struct SolvCacheFile {
    let url: URL
    let repoID: String
    /// sha256 of repomd.xml, which names every metadata file by checksum.
    let key: String

    public init(url: URL, repoID: String, key: String) {
        self.url = url
        self.repoID = repoID
        self.key = key
    }

    static let magic = "treeforge solv cache 1"

    public enum Lookup: Equatable {
        case missing
        /// libsolv's bytes, checked.
        case usable(Data)
        /// Why the file cannot be used.
        case damaged(String)
    }

    /// The header is a few hundred bytes; anything longer is not one.
    private static let headerLimit = 4096

    public func read() -> Lookup {
        guard FileManager.default.fileExists(atPath: url.path) else { return .missing }
        let contents: Data
        do {
            contents = try Data(contentsOf: url)
        } catch {
            return .damaged("cannot read it: \(error.localizedDescription)")
        }
        if contents.isEmpty { return .damaged("it is empty") }
        let end = Data("\n\n".utf8)
        guard let blank = contents.range(of: end, in: contents.startIndex..<min(contents.endIndex, Self.headerLimit)),
              let header = String(data: contents[..<blank.lowerBound], encoding: .utf8),
              header.hasPrefix(Self.magic + "\n") else {
            return .damaged("it has no treeforge header (truncated, overwritten, or written by an older treeforge)")
        }
        var fields: [String: String] = [:]
        for line in header.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        let payload = contents[blank.upperBound...]
        if fields["repo"] != repoID || fields["key"] != key {
            return .damaged("it is the cache of repo \(fields["repo"] ?? "?") with repomd.xml sha256 \(fields["key"] ?? "?"), not of this one")
        }
        if fields["libsolv"] != SolvRepository.libsolvVersion {
            return .damaged("it was written by libsolv \(fields["libsolv"] ?? "?"), this is \(SolvRepository.libsolvVersion)")
        }
        guard let size = fields["size"].flatMap(Int.init), let sha256 = fields["sha256"] else {
            return .damaged("its header gives no size or sha256")
        }
        if payload.count != size {
            return .damaged("it holds \(payload.count) bytes of data, its header says \(size)\(payload.count < size ? " (truncated)" : "")")
        }
        let actual = Checksum.sha256.hex(of: payload)
        if actual != sha256 {
            return .damaged("its data has sha256 \(actual), its header says \(sha256) (corrupt)")
        }
        return .usable(Data(payload))
    }

    /// Writes libsolv's bytes behind a header, atomically (`AtomicFile`),
    /// and flushes the folder: a compose that parsed the XML should not have
    /// to again after a power cut.
    func write(_ payload: Data) throws {
        let header = [
            Self.magic,
            "repo \(repoID)",
            "key \(key)",
            "libsolv \(SolvRepository.libsolvVersion)",
            "size \(payload.count)",
            "sha256 \(Checksum.sha256.hex(of: payload))",
        ].joined(separator: "\n") + "\n\n"
        try AtomicFile.write(Data(header.utf8) + payload, to: url)
        try AtomicFile.syncFolder(url.deletingLastPathComponent())
    }
}
