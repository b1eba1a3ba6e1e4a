import Foundation
import LibOSTree

/// Commits an installed root to an OSTree repository as the ref's next
/// version. The ref moves only when the repository transaction commits; a
/// cancel before that aborts the transaction and leaves the ref alone.
///
/// Blocks for the whole write (libostree is synchronous): call it from a
/// thread of its own, never from Swift's cooperative pool.
public struct Committer {
    public var repository: OSTreeRepository
    /// The commit's version; automatic (`YYYYMMDD.N`) when nil.
    public var version: String?
    /// More commit metadata (the build id, the input hash).
    public var extraMetadata: [String: CommitMetadataValue] = [:]
    /// `--add-metadata-string` and `--add-metadata-from-json`: over the
    /// treefile's `add-commit-metadata`, under treeforge's own keys.
    public var addedMetadata: [String: JSONValue] = [:]
    /// False writes the commit but leaves the ref where it was.
    public var moveRef = true
    /// The version automatic versioning counts from (default: the ref head's).
    public var previousVersion: String?
    /// Sign the commit (GPG) before the ref moves.
    public var gpgKey: GPGKey?
    public var parentChoice = ParentChoice.refHead
    /// Who writes content objects (archive repositories), and on how many threads.
    public var writer = CommitWriter.parallel
    public var threads: Int?

    public enum ParentChoice: Codable, Hashable, Sendable {
        /// The ref's previous commit (the default).
        case refHead
        /// A new history (`--no-parent`).
        case none
        /// This commit or ref (`--parent`).
        case commit(String)
    }

    public init(repository: OSTreeRepository, version: String? = nil) {
        self.repository = repository
        self.version = version
    }

    /// The version the next commit of the treefile's ref will get, known
    /// before the commit (postprocessing writes it into os-release): the
    /// given one, or the next after `previousVersion` or the ref head's in
    /// `repository` (when there is one yet).
    public static func nextVersion(for treefile: Treefile, version: String?, previousVersion: String?, repository: OSTreeRepository?,
                                   now: Date = Committer.now) throws -> String {
        if let version { return version }
        var previous = previousVersion
        if previous == nil, let repository {
            do {
                previous = try repository.resolve(ref: treefile.ref).flatMap { try repository.commitInfo($0).metadata["version"]?.string }
            } catch let error as OSTreeError {
                throw ComposeError(.commit, subject: treefile.ref, "cannot read the ref's head version: \(error)")
            }
        }
        return Versioning.next(for: treefile, after: previous, now: now)
    }

    public struct Result: Sendable {
        public var commit: String
        public var parent: String?
        public var version: String
        public var contentChecksum: String?
        public var timestamp: Date
        public var stats: OSTreeRepository.CommitStats
        public var size: TreeSize
    }

    public func commit(root: URL, treefile: Treefile, packages: ResolvedSet, context: StageContext = .quiet,
                       now: Date = Committer.now) throws -> Result {
        do {
            var request = try request(root: root, treefile: treefile, packages: packages, now: now)
            if context.faults.watches(.commit) {
                let counter = Counter()
                let (faults, cancellation) = (context.faults, context.cancellation)
                request.onEntry = { _ in faults.reached(.commit, step: counter.next(), cancellation: cancellation) }
            }
            let cancellable = OSTreeCancellable()
            let stopOnCancel = context.cancellation.onCancel { cancellable.cancel() }
            defer { stopOnCancel.end() }
            let (checksum, stats) = try repository.commitWithStats(request, cancellable: cancellable)
            // The parallel writer measured the tree in its scan; libostree's walk did not.
            let size = if let bytes = stats.treeBytes, let entries = stats.treeEntries {
                TreeSize(bytes: Int64(bytes), files: Int64(entries))
            } else {
                try TreeSize.measure(root)
            }
            let info = try repository.commitInfo(checksum)
            return Result(commit: checksum, parent: request.parent, version: request.metadata["version"]?.string ?? "",
                          contentChecksum: info.contentChecksum, timestamp: info.timestamp, stats: stats, size: size)
        } catch let error as OSTreeError where error.isCancellation {
            throw context.cancellation.cancelled(in: .commit)
        } catch let error as OSTreeError {
            throw ComposeError(.commit, subject: "ref \(treefile.ref) in \(repository.path)", error.description)
        }
    }

    /// The commit to write: parent, version and metadata.
    func request(root: URL, treefile: Treefile, packages: ResolvedSet, now: Date) throws -> CommitRequest {
        let head = try repository.resolve(ref: treefile.ref)
        let parent: String? = switch parentChoice {
        case .refHead: head
        case .none: nil
        case .commit(let rev): try repository.resolve(ref: rev) ?? { throw ComposeError(.commit, subject: "--parent \(rev)", "no such commit or ref") }()
        }
        let previousVersion = try previousVersion ?? head.flatMap { try repository.commitInfo($0).metadata["version"]?.string }
        let version = self.version ?? Versioning.next(for: treefile, after: previousVersion, now: now)
        var added = treefile.config.addCommitMetadata
        added.merge(addedMetadata) { _, commandLine in commandLine }
        let user = Dictionary(uniqueKeysWithValues: added.compactMap { key, value in CommitMetadataValue(json: value).map { (key, $0) } })
        // The package list and repositories go where `repo-metadata` says.
        let packageMetadata: [String: CommitMetadataValue] = [
            "treeforge.packages": .strings(packages.nevras),
            // name, epoch, version, release, arch of each package, sorted by name.
            "treeforge.rpmdb.pkglist": .array(packages.packages.sorted { ($0.name, $0.arch) < ($1.name, $1.arch) }
                .map { .strings([$0.name, $0.epoch.isEmpty ? "0" : $0.epoch, $0.version, $0.release, $0.arch]) }),
            // Each repository used, with the revision of its repomd.xml.
            "treeforge.repos": .dictionary(Dictionary(uniqueKeysWithValues: packages.repos.map {
                ($0.id, CommitMetadataValue.string($0.revision ?? ""))
            })),
        ]
        let mode = treefile.config.repoMetadata
        // As rpm-ostree marks a tree with a kernel: what `ostree admin deploy` boots.
        let boot: [String: CommitMetadataValue] = KernelLayout.bootableKernel(in: root).map {
            ["ostree.bootable": .bool(true), "ostree.linux": .string($0)]
        } ?? [:]
        let metadata: [String: CommitMetadataValue] = user.merging(extraMetadata) { _, own in own }.merging(boot) { _, own in own }.merging([
            "version": .string(version),
            "ostree.ref-binding": .strings([treefile.ref]),
            "treeforge.treefile-sha256": .string(treefile.sha256),
        ]) { _, own in own }.merging(mode == .inline ? packageMetadata : [:]) { _, own in own }
        var request = CommitRequest(rootDirectory: root.path, ref: treefile.ref,
                                    subject: "\(treefile.ref) \(version)", metadata: metadata, parent: parent)
        request.moveRef = moveRef
        request.timestamp = Self.sourceDateEpoch
        request.gpgKey = gpgKey
        request.writer = writer
        request.workers = threads
        if mode == .detached { request.detachedMetadata = packageMetadata }
        return request
    }

    /// `SOURCE_DATE_EPOCH`, when set: the time recorded in the commit (and,
    /// through librpm, in the rpmdb), so the same inputs give the same commit.
    public static var sourceDateEpoch: UInt64? {
        ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { UInt64($0) }
    }

    /// The commit's time: `SOURCE_DATE_EPOCH`, else now.
    public static var now: Date {
        sourceDateEpoch.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
    }
}

/// The commit's content writer (parallel or libostree's), as the CLI names it.
public typealias CommitWriter = LibOSTree.CommitWriter

/// Counts steps from 1, from libostree's callback thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

/// Commit versions.
public enum Versioning {
    /// treeforge's default when the treefile sets no `automatic-version-prefix`:
    /// `YYYYMMDD.N`, N counting up from 0 within a UTC day.
    public static func next(after previous: String?, now: Date) -> String {
        next(prefix: "<date:%Y%m%d>", suffix: ".", after: previous, now: now)
    }

    /// The treefile's `automatic-version-prefix` rule, or treeforge's default.
    static func next(for treefile: Treefile, after previous: String?, now: Date) -> String {
        treefile.config.automaticVersionPrefix.map {
            next(prefix: $0, suffix: treefile.config.automaticVersionSuffix ?? ".", after: previous, now: now)
        } ?? next(after: previous, now: now)
    }

    /// rpm-ostree's `automatic-version-prefix` rule. `<date:FORMAT>` in the
    /// prefix is expanded (strftime, UTC). The previous version decides the
    /// counter: equal to the prefix → `.1` (`.0` with a date); the prefix then
    /// the suffix then digits N → `.N+1`; anything else → the prefix alone
    /// (with a date: `.0`, so a new day starts at 0).
    public static func next(prefix: String, suffix: String, after previous: String?, now: Date) -> String {
        let expanded = expandDates(prefix, now: now)
        let hasDate = expanded != prefix
        let last = previous ?? ""
        if last == expanded {
            return expanded + suffix + (hasDate ? "0" : "1")
        }
        if last.hasPrefix(expanded + suffix) {
            let rest = last.dropFirst(expanded.count + suffix.count)
            let counter = Int(rest.prefix(while: \.isASCIIDigit)) ?? 0
            return expanded + suffix + String(counter + 1)
        }
        return hasDate ? expanded + suffix + "0" : expanded
    }

    static func expandDates(_ text: String, now: Date) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "<date:"), let close = rest[open.upperBound...].firstIndex(of: ">") {
            out += rest[..<open.lowerBound]
            out += strftimeUTC(String(rest[open.upperBound..<close]), now)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    private static func strftimeUTC(_ format: String, _ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 256)
        let count = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
