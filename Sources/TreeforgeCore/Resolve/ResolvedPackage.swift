import Foundation
import LibSolv

/// One package the resolver chose: what its repository's metadata says of
/// it (name, EVR, checksum, sizes…, readable as `package.name` and so on)
/// and where its RPM file is.
@dynamicMemberLookup
public struct ResolvedPackage: Codable, Sendable, Hashable {
    public var info: PackageInfo
    /// The RPM file on disk (for a remote repository: in the cache, once fetched).
    public var path: String
    /// Where to fetch it from, for a remote repository.
    public var url: String?

    public init(info: PackageInfo, path: String, url: String? = nil) {
        self.info = info
        self.path = path
        self.url = url
    }

    public subscript<T>(dynamicMember keyPath: KeyPath<PackageInfo, T>) -> T { info[keyPath: keyPath] }
}

/// The resolver's answer: the full set of packages to install.
public struct ResolvedSet: Codable, Sendable {
    /// In libsolv's transaction order.
    public var packages: [ResolvedPackage]
    /// The repositories read, with repomd.xml's revision of each.
    public var repos: [RepoState]

    public var nevras: [String] { packages.map(\.nevra).sorted() }
    public var downloadSize: UInt64 { packages.reduce(0) { $0 + $1.downloadSize } }
    public var installSize: UInt64 { packages.reduce(0) { $0 + $1.installSize } }
}

public struct RepoState: Codable, Sendable, Hashable {
    public var id: String
    public var path: String
    public var revision: String?
    /// SHA-256 of the repomd.xml read: names every metadata file by checksum.
    public var repomdSHA256: String?
    public var packageCount: Int
    /// The `.repo` file asks for signature checks.
    public var gpgcheck = false
    /// With `gpgcheck`: the local files holding its `gpgkey=` keys (remote
    /// ones fetched into the cache).
    public var gpgkeys: [String] = []
    /// The `.repo` file's say in what is taken from it: dnf's priority and
    /// cost, `excludepkgs` and `includepkgs`.
    public var priority = 99
    public var cost = 1000
    public var excludePackages: [String] = []
    public var includePackages: [String] = []
}

extension ResolvedPackage {
    /// The checksum its repository's metadata gives for the RPM file.
    func expectedChecksum(stage: Stage) throws -> (type: Checksum, hex: String) {
        guard let type = self.checksumType.flatMap(Checksum.init(repomdName:)), let expected = self.checksum else {
            throw ComposeError(stage, subject: self.nevra, "repo \(self.repository) gives no usable checksum for \(path)")
        }
        return (type, expected)
    }

    /// Nil when the file at `path` has the size and checksum its metadata
    /// gives; otherwise what differs, in words.
    func damage(stage: Stage) throws -> String? {
        let (type, expected) = try expectedChecksum(stage: stage)
        return try FileCheck.damage(of: path, checksum: type, expected: expected, size: info.downloadSize > 0 ? info.downloadSize : nil)
    }
}
