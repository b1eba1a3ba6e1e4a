import Foundation
import LibOSTree
import LibRPM

/// Each RPM's payload imported once into OSTree objects: one commit per
/// package in a `bare-user` repository under the cache directory
/// (`<cachedir>/pkgcache-repo`), on the ref `treeforge/pkg/<header SHA-256>`,
/// so a package is known by what it is, not by what its file is called.
///
/// The payload is read straight from the package (librpm's archive reader:
/// the same files, modes and link targets librpm would write) and never
/// unpacked to disk first. Packages are imported in parallel, each in a
/// transaction of its own, so an interrupted import leaves every finished
/// package usable and the rest absent.
///
/// Ownership: a `bare-user` object is owned by whoever runs treeforge, and
/// user and group names mean nothing until the tree's own `/etc/passwd`
/// exists (after the packages' `%pre` scriptlets). So every object is
/// written root-owned, and the entries rpm would give another owner are
/// listed in the commit's `treeforge.package.owners` to be set when the tree
/// is assembled. File capabilities are not kept: a commit of the tree
/// carries no xattrs (`Committer`), so neither does the cache.
///
/// Blocks; not for the cooperative pool.
public struct PackageCache: Sendable {
    public let repositoryURL: URL

    public init(cachedir: URL) {
        repositoryURL = cachedir.appendingPathComponent("pkgcache-repo")
    }

    public static func ref(forHeader digest: String) -> String { "treeforge/pkg/\(digest)" }

    /// A package as the cache holds it.
    public struct Package: Sendable, Equatable {
        public var nevra: String
        public var headerSHA256: String
        public var commit: String
        /// True when this call imported it (it was missing or damaged).
        public var imported: Bool
    }

    /// An entry rpm gives an owner other than root:root.
    public struct Owner: Sendable, Equatable, Codable {
        public var path: String
        public var user: String
        public var group: String
    }

    static let metadataNEVRA = "treeforge.package.nevra"
    static let metadataHeader = "treeforge.package.header-sha256"
    static let metadataOwners = "treeforge.package.owners"
    /// Devices and FIFOs: path, mode (octal), device number.
    static let metadataSpecialFiles = "treeforge.package.special-files"

    /// Imports every package the cache lacks (or holds damaged), on
    /// `workers` threads; returns them all in the order given.
    public func importPackages(_ paths: [URL], workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                               cancellation: Cancellation? = nil) throws -> [Package] {
        _ = try openRepository()
        let results = ImportResults(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, paths.count))) { _ in
            while let index = results.next() {
                do {
                    if let cancellation { try cancellation.check(.install) }
                    results.store(index, try importPackage(at: paths[index]))
                } catch {
                    results.fail(error)
                }
            }
        }
        return try results.packages()
    }

    /// The package's commit when the cache holds it whole: the ref, the
    /// commit and every object it reaches. A damaged one counts as absent,
    /// so it is imported again rather than used.
    public func cachedCommit(forHeader digest: String) throws -> String? {
        try cachedCommit(forHeader: digest, in: openRepository())
    }

    private func cachedCommit(forHeader digest: String, in repository: OSTreeRepository) -> String? {
        guard let commit = try? repository.resolve(ref: Self.ref(forHeader: digest)) else { return nil }
        return (try? repository.missingObjects(commit: commit)) == 0 ? commit : nil
    }

    /// The entries of a cached package that need an owner other than root.
    public func owners(commit: String) throws -> [Owner] {
        let repository = try openRepository()
        guard case .array(let rows)? = try repository.commitInfo(commit).metadata[Self.metadataOwners] else { return [] }
        return rows.compactMap { row in
            guard case .strings(let fields) = row, fields.count == 3 else { return nil }
            return Owner(path: fields[0], user: fields[1], group: fields[2])
        }
    }

    func importPackage(at url: URL) throws -> Package {
        let archive: RPMPackageArchive
        do {
            archive = try RPMPackageArchive(packageAt: url.path)
        } catch let error as RPMError {
            throw ComposeError(.install, subject: url.lastPathComponent, "cannot read the package to cache it: \(error)")
        }
        // A repository object per package: a transaction is the object's.
        let repository = try openRepository()
        if let commit = cachedCommit(forHeader: archive.headerSHA256, in: repository) {
            return Package(nevra: archive.nevra, headerSHA256: archive.headerSHA256, commit: commit, imported: false)
        }
        do {
            let builder = try OSTreeTreeBuilder(repository: repository)
            var owners: [Owner] = []
            var linksAwaitingContent: [Int: [String]] = [:]
            var specials: [CommitMetadataValue] = []
            try archive.forEachEntry { entry, contents in
                if entry.user != "root" || entry.group != "root" {
                    owners.append(Owner(path: entry.path, user: entry.user, group: entry.group))
                }
                if entry.isDirectory {
                    try builder.addDirectory(entry.path, uid: 0, gid: 0, mode: entry.mode)
                } else if entry.isSymlink {
                    try builder.addSymlink(entry.path, uid: 0, gid: 0, target: entry.linkTarget)
                } else if entry.isRegular {
                    if let contents {
                        // The content, with this entry's mode: for a hardlink set
                        // the last member's, the mode librpm gives the inode.
                        let checksum = try builder.addFile(entry.path, uid: 0, gid: 0, mode: entry.mode, contents: contents)
                        for earlier in entry.hardlinkSet.flatMap({ linksAwaitingContent.removeValue(forKey: $0) }) ?? [] {
                            try builder.addObject(earlier, checksum: checksum)
                        }
                    } else if let set = entry.hardlinkSet {
                        linksAwaitingContent[set, default: []].append(entry.path)
                    } else {
                        throw ComposeError(.install, subject: archive.nevra, "\(entry.path): a file the payload carries no content for")
                    }
                } else {
                    // Devices and FIFOs: OSTree cannot store them. They are
                    // listed, to be made in the tree where rpm would make
                    // them, and dealt with there as today (`DeviceNodes`).
                    specials.append(.strings([entry.path, String(entry.mode, radix: 8), String(entry.rdev)]))
                }
            }
            if let set = linksAwaitingContent.first {
                throw ComposeError(.install, subject: archive.nevra, "\(set.value.joined(separator: ", ")): hardlinks whose content the payload never carries")
            }
            var metadata: [String: CommitMetadataValue] = [
                Self.metadataNEVRA: .string(archive.nevra),
                Self.metadataHeader: .string(archive.headerSHA256),
            ]
            if !owners.isEmpty { metadata[Self.metadataOwners] = .array(owners.map { .strings([$0.path, $0.user, $0.group]) }) }
            if !specials.isEmpty { metadata[Self.metadataSpecialFiles] = .array(specials) }
            let commit = try builder.commit(ref: Self.ref(forHeader: archive.headerSHA256), subject: archive.nevra,
                                            metadata: metadata, timestamp: 0)
            return Package(nevra: archive.nevra, headerSHA256: archive.headerSHA256, commit: commit, imported: true)
        } catch let error as RPMError {
            throw ComposeError(.install, subject: archive.nevra, "cannot read the package's payload: \(error)")
        } catch let error as OSTreeError {
            throw ComposeError(.install, subject: "\(archive.nevra) in \(repositoryURL.path)", "cannot cache the package: \(error)")
        }
    }

    private func openRepository() throws -> OSTreeRepository {
        do {
            try FileManager.default.createDirectory(at: repositoryURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            return try OSTreeRepository.openOrCreate(path: repositoryURL.path, mode: .bareUser)
        } catch let error as OSTreeError {
            throw ComposeError(.install, subject: repositoryURL.path, "cannot open the package cache: \(error)")
        }
    }
}

/// The work queue and results of a parallel import.
private final class ImportResults: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var results: [PackageCache.Package?]
    private var failure: Error?

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.withLock {
            guard failure == nil, nextIndex < results.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func store(_ index: Int, _ package: PackageCache.Package) { lock.withLock { results[index] = package } }
    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    func packages() throws -> [PackageCache.Package] {
        try lock.withLock {
            if let failure { throw failure }
            return results.map { $0! }
        }
    }
}
