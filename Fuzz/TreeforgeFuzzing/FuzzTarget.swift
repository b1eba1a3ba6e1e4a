import Foundation

/// The fuzz targets by the names scripts/fuzz and Tests/Fixtures/fuzz/ use.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case treefile, repofile, lockfile, solv, solvcache

    public var fuzz: @Sendable (Data) -> Void {
        switch self {
        case .treefile: TreefileFuzzer.fuzz
        case .repofile: RepoFileFuzzer.fuzz
        case .lockfile: LockfileFuzzer.fuzz
        case .solv: SolvFuzzer.fuzz
        case .solvcache: SolvCacheFuzzer.fuzz
        }
    }
}
