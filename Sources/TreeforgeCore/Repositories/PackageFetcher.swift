import Foundation

/// The download stage: every remote package of a resolved set into the
/// cache, each checked against its repository's size and checksum; local
/// packages stay where they are. Kept apart from installing (osbuild's sources),
/// so `--download-only` can fill a cache for isolated builders.
public struct PackageFetcher: ComposeStage {
    public static let stage = Stage.download
    public var access: RepositoryAccess

    public init(access: RepositoryAccess) { self.access = access }

    public func run(_ set: ResolvedSet, in context: StageContext) throws -> ResolvedSet {
        var folders = Set<URL>()
        for package in set.packages {
            try context.cancellation.check(.download)
            if try access.fetch(package) {
                folders.insert(URL(fileURLWithPath: package.path).deletingLastPathComponent())
            }
        }
        // Each download was flushed before its rename; one flush per folder
        // makes the renames durable too: what --download-only put in the
        // cache is there after a power cut.
        for folder in folders { try AtomicFile.syncFolder(folder) }
        return set
    }

    public func identity(of set: ResolvedSet, output: ResolvedSet) throws -> [String] {
        set.packages.map { "package \($0.nevra) \($0.checksumType ?? "-"):\($0.checksum ?? "-")" }.sorted()
    }
}
