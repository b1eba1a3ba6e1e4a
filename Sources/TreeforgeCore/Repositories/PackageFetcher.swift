import Foundation

/// The download stage: every remote package of a resolved set into the
/// cache, each checked against its repository's checksum; local packages
/// stay where they are. Kept apart from installing (osbuild's sources),
/// so `--download-only` can fill a cache for isolated builders.
public struct PackageFetcher: ComposeStage {
    public static let stage = Stage.download
    public var access: RepositoryAccess

    public init(access: RepositoryAccess) { self.access = access }

    public func run(_ set: ResolvedSet, in context: StageContext) throws -> ResolvedSet {
        for package in set.packages {
            try context.cancellation.check(.download)
            try access.fetch(package)
        }
        return set
    }

    public func identity(of set: ResolvedSet, output: ResolvedSet) throws -> [String] {
        set.packages.map { "package \($0.nevra) \($0.checksumType ?? "-"):\($0.checksum ?? "-")" }.sorted()
    }
}
