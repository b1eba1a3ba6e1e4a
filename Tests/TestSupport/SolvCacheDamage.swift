import Foundation

/// Ways a `.solv` cache file gets damaged, each made for real on a file the
/// resolver wrote.
public enum SolvCacheDamage: String, CaseIterable, CustomStringConvertible, Sendable {
    case truncated, flippedBytes, zeroBytes, otherRepository
    public var description: String { rawValue }

    /// Damages `file`; `other` is the cache file of another repository.
    public func apply(to file: URL, other: URL) throws {
        let bytes = try Data(contentsOf: file)
        switch self {
        case .truncated:
            try bytes.prefix(bytes.count / 2).write(to: file)
        case .flippedBytes:
            var flipped = bytes
            for i in (bytes.count / 2)..<(bytes.count / 2 + 16) { flipped[i] ^= 0xff }
            try flipped.write(to: file)
        case .zeroBytes:
            try Data().write(to: file)
        case .otherRepository:
            try FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: other, to: file)
        }
    }

    /// The cache file of repository `repo` in `cachedir`.
    public static func cacheFile(of repo: String, in cachedir: URL) throws -> URL {
        let folder = cachedir.appendingPathComponent("solv")
        guard let name = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .first(where: { $0.hasPrefix("\(repo)-") && $0.hasSuffix(".solv") }) else {
            throw FixtureError("no .solv file of repo \(repo) in \(folder.path)")
        }
        return folder.appendingPathComponent(name)
    }

    /// A repository of two fixture packages: the cache file of another
    /// repository that, renamed in place of the fixtures' one and read,
    /// would silently drop packages.
    public static func smallRepository(in folder: URL) throws -> URL {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Packages"), withIntermediateDirectories: true)
        for rpm in ["fixture-sh-1.0-1.x86_64.rpm", "fixture-filesystem-1.0-1.noarch.rpm"] {
            try FileManager.default.copyItem(at: Fixtures.repository().appendingPathComponent("Packages/\(rpm)"),
                                             to: folder.appendingPathComponent("Packages/\(rpm)"))
        }
        try Command.check(["createrepo_c", "-q", folder.path])
        return folder
    }
}
