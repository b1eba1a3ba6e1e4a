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

    /// A package as the cache holds it, with what assembling a tree from
    /// it needs to know (from its commit's metadata).
    public struct Package: Sendable, Equatable {
        public var nevra: String
        public var headerSHA256: String
        public var commit: String
        /// True when this call imported it (it was missing or damaged).
        public var imported: Bool
        /// Its install-time scriptlets (`%pre`, `%post`, …).
        public var scriptlets: [String] = []
        /// Whether it carries triggers or file triggers.
        public var hasTriggers = false
        /// Entries rpm gives an owner other than root.
        public var owners: [Owner] = []
        /// Regular files whose mode a `bare-user` object does not carry
        /// (setuid, setgid, sticky, no read bit for the owner, writable by
        /// all): set on a copy.
        public var specialModes: [SpecialMode] = []
        /// The directories it lists, with the metadata librpm gives them.
        public var directories: [Directory] = []
    }

    public struct Directory: Sendable, Equatable {
        public var path: String
        /// Permission bits (no file type).
        public var mode: UInt32
        public var user: String
        public var group: String
    }

    public struct SpecialMode: Sendable, Equatable {
        public var path: String
        /// Permission bits with the special ones (no file type).
        public var mode: UInt32
    }

    /// An entry rpm gives an owner other than root:root.
    public struct Owner: Sendable, Equatable, Codable {
        public var path: String
        public var user: String
        public var group: String
    }

    /// Commits of another format (older treeforge) are imported again.
    static let format: UInt64 = 3
    static let metadataFormat = "treeforge.package.format"
    static let metadataNEVRA = "treeforge.package.nevra"
    static let metadataScriptlets = "treeforge.package.scriptlets"
    static let metadataTriggers = "treeforge.package.triggers"
    /// Regular files whose mode a `bare-user` object does not keep: path, mode (octal).
    static let metadataSpecialModes = "treeforge.package.special-modes"
    /// The directories the package lists: path, mode (octal), user, group.
    static let metadataDirectories = "treeforge.package.directories"
    static let metadataHeader = "treeforge.package.header-sha256"
    static let metadataOwners = "treeforge.package.owners"
    /// Devices and FIFOs: path, mode (octal), device number.
    static let metadataSpecialFiles = "treeforge.package.special-files"

    /// Imports every package the cache lacks (or holds damaged), on
    /// `workers` threads; returns them all in the order given.
    ///
    /// Durability without a filesystem sync per package: a batch of packages
    /// is written into their transactions' staging folders, the filesystem
    /// is synced once, and only then are the transactions committed (objects
    /// renamed into place, then refs). A crash at any point leaves each
    /// package whole or absent, never an object with unsynced content.
    public func importPackages(_ paths: [URL], workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                               cancellation: Cancellation? = nil) throws -> [Package] {
        let repository = try openRepository()
        var packages: [Package] = []
        for start in stride(from: 0, to: paths.count, by: Self.batchSize) {
            let batch = Array(paths[start..<min(paths.count, start + Self.batchSize)])
            let results = ImportResults(count: batch.count)
            DispatchQueue.concurrentPerform(iterations: max(1, min(workers, batch.count))) { _ in
                while let index = results.next() {
                    do {
                        if let cancellation { try cancellation.check(.install) }
                        results.store(index, try stagePackage(at: batch[index]))
                    } catch {
                        results.fail(error)
                    }
                }
            }
            let staged = try results.packages()
            if staged.contains(where: { $0.builder != nil }) {
                do {
                    try repository.syncFilesystem()
                } catch let error as OSTreeError {
                    throw ComposeError(.install, subject: repositoryURL.path, "cannot cache the packages: \(error)")
                }
                for staging in staged {
                    do {
                        try staging.builder?.finish()
                    } catch let error as OSTreeError {
                        throw ComposeError(.install, subject: "\(staging.package.nevra) in \(repositoryURL.path)", "cannot cache the package: \(error)")
                    }
                }
            }
            packages += staged.map(\.package)
        }
        return packages
    }

    /// Whether a `bare-user` object's own mode, which a checkout gives the
    /// file, differs from `mode`: libostree stores `(mode & 0775) | 0400`.
    static func bareUserChanges(_ mode: UInt32) -> Bool {
        mode & 0o7000 != 0 || mode & 0o400 == 0 || mode & 0o002 != 0
    }

    /// Packages staged before one filesystem sync: enough to make the sync
    /// rare, few enough to bound the open transactions.
    static let batchSize = 64

    /// The package's commit when the cache holds it whole, in this format:
    /// the ref, the commit and every object it reaches. A damaged one counts
    /// as absent, so it is imported again rather than used.
    public func cachedPackage(forHeader digest: String) throws -> Package? {
        try cachedPackage(forHeader: digest, in: openRepository())
    }

    private func cachedPackage(forHeader digest: String, in repository: OSTreeRepository) -> Package? {
        guard let commit = try? repository.resolve(ref: Self.ref(forHeader: digest)),
              let metadata = try? repository.commitInfo(commit).metadata,
              metadata[Self.metadataFormat] == .uint64(Self.format),
              (try? repository.missingObjects(commit: commit)) == 0 else { return nil }
        return Self.package(commit: commit, metadata: metadata, imported: false)
    }

    static func package(commit: String, metadata: [String: CommitMetadataValue], imported: Bool) -> Package {
        func rows(_ key: String) -> [[String]] {
            guard case .array(let rows)? = metadata[key] else { return [] }
            return rows.compactMap { if case .strings(let fields) = $0 { fields } else { nil } }
        }
        var package = Package(nevra: metadata[Self.metadataNEVRA]?.string ?? "",
                              headerSHA256: metadata[Self.metadataHeader]?.string ?? "", commit: commit, imported: imported)
        if case .strings(let names)? = metadata[Self.metadataScriptlets] { package.scriptlets = names }
        package.hasTriggers = metadata[Self.metadataTriggers] == .bool(true)
        package.owners = rows(Self.metadataOwners).filter { $0.count == 3 }.map { Owner(path: $0[0], user: $0[1], group: $0[2]) }
        package.specialModes = rows(Self.metadataSpecialModes).compactMap { fields in
            guard fields.count == 2, let mode = UInt32(fields[1], radix: 8) else { return nil }
            return SpecialMode(path: fields[0], mode: mode)
        }
        package.directories = rows(Self.metadataDirectories).compactMap { fields in
            guard fields.count == 4, let mode = UInt32(fields[1], radix: 8) else { return nil }
            return Directory(path: fields[0], mode: mode, user: fields[2], group: fields[3])
        }
        return package
    }

    /// The entries of a cached package that need an owner other than root.
    public func owners(commit: String) throws -> [Owner] {
        Self.package(commit: commit, metadata: try openRepository().commitInfo(commit).metadata, imported: false).owners
    }

    /// A package ready to move into the cache (`builder`), or already there.
    struct StagedImport {
        var package: Package
        var builder: OSTreeTreeBuilder?
    }

    func stagePackage(at url: URL) throws -> StagedImport {
        let archive: RPMPackageArchive
        do {
            archive = try RPMPackageArchive(packageAt: url.path)
        } catch let error as RPMError {
            throw ComposeError(.install, subject: url.lastPathComponent, "cannot read the package to cache it: \(error)")
        }
        // A repository object per package: a transaction is the object's.
        let repository = try openRepository()
        if let package = cachedPackage(forHeader: archive.headerSHA256, in: repository) {
            return StagedImport(package: package)
        }
        repository.disableFsync()
        do {
            let builder = try OSTreeTreeBuilder(repository: repository)
            var owners: [Owner] = []
            var specialModes: [CommitMetadataValue] = []
            var directories: [CommitMetadataValue] = []
            var linksAwaitingContent: [Int: [String]] = [:]
            var specials: [CommitMetadataValue] = []
            try archive.forEachEntry { entry, contents in
                if entry.user != "root" || entry.group != "root" {
                    owners.append(Owner(path: entry.path, user: entry.user, group: entry.group))
                }
                if entry.isDirectory {
                    directories.append(.strings([entry.path, String(entry.mode & 0o7777, radix: 8), entry.user, entry.group]))
                    try builder.addDirectory(entry.path, uid: 0, gid: 0, mode: entry.mode)
                } else if entry.isSymlink {
                    try builder.addSymlink(entry.path, uid: 0, gid: 0, target: entry.linkTarget)
                } else if entry.isRegular {
                    if Self.bareUserChanges(entry.mode) {
                        specialModes.append(.strings([entry.path, String(entry.mode & 0o7777, radix: 8)]))
                    }
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
                Self.metadataFormat: .uint64(Self.format),
                Self.metadataNEVRA: .string(archive.nevra),
                Self.metadataHeader: .string(archive.headerSHA256),
                Self.metadataScriptlets: .strings(archive.installScriptlets),
                Self.metadataTriggers: .bool(archive.hasTriggers),
            ]
            if !owners.isEmpty { metadata[Self.metadataOwners] = .array(owners.map { .strings([$0.path, $0.user, $0.group]) }) }
            if !specials.isEmpty { metadata[Self.metadataSpecialFiles] = .array(specials) }
            if !specialModes.isEmpty { metadata[Self.metadataSpecialModes] = .array(specialModes) }
            if !directories.isEmpty { metadata[Self.metadataDirectories] = .array(directories) }
            let commit = try builder.writeCommit(ref: Self.ref(forHeader: archive.headerSHA256), subject: archive.nevra,
                                                 metadata: metadata, timestamp: 0)
            return StagedImport(package: Self.package(commit: commit, metadata: metadata, imported: true), builder: builder)
        } catch let error as RPMError {
            throw ComposeError(.install, subject: archive.nevra, "cannot read the package's payload: \(error)")
        } catch let error as OSTreeError {
            throw ComposeError(.install, subject: "\(archive.nevra) in \(repositoryURL.path)", "cannot cache the package: \(error)")
        }
    }

    func openRepository() throws -> OSTreeRepository {
        do {
            try FileManager.default.createDirectory(at: repositoryURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            return try OSTreeRepository.openOrCreate(path: repositoryURL.path, mode: .bareUser)
        } catch let error as OSTreeError {
            throw ComposeError(.install, subject: repositoryURL.path, "cannot open the package cache: \(error)")
        }
    }
}

/// The work queue and results of a parallel import.
final class ImportResults: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var results: [PackageCache.StagedImport?]
    private var failure: Error?

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.withLock {
            guard failure == nil, nextIndex < results.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func store(_ index: Int, _ staged: PackageCache.StagedImport) { lock.withLock { results[index] = staged } }
    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    func packages() throws -> [PackageCache.StagedImport] {
        try lock.withLock {
            if let failure { throw failure }
            return results.map { $0! }
        }
    }
}
