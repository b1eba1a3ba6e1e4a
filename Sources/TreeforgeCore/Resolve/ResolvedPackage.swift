import Foundation

/// One package the resolver chose, with where to find it and how to check it.
public struct ResolvedPackage: Codable, Sendable, Hashable {
    public var name: String
    public var epoch: String
    public var version: String
    public var release: String
    public var arch: String
    /// The id of the repository it comes from.
    public var repo: String
    /// The RPM file on disk.
    public var path: String
    public var checksumType: String?
    public var checksum: String?
    public var downloadSize: UInt64
    public var installSize: UInt64

    /// name-[epoch:]version-release.arch, as dnf and rpm print it.
    public var nevra: String {
        let evr = epoch.isEmpty || epoch == "0" ? "\(version)-\(release)" : "\(epoch):\(version)-\(release)"
        return "\(name)-\(evr).\(arch)"
    }
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
    public var packageCount: Int
}
