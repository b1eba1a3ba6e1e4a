import Foundation
import TreeforgeCore

/// Fuzzes the check a `.solv` cache file passes before libsolv reads it
/// (`SolvCacheFile.read`: header, repository, key, libsolv version, size,
/// sha256), and hands what passes to libsolv as the resolver does.
///
/// Input: the whole cache file. scripts/fuzz seeds it with real cache files
/// of the fixture repository for `repoID` and `key` below; a mutation of the
/// data fails the sha256 check, so this target exercises the check, and
/// `solv` libsolv.
public enum SolvCacheFuzzer {
    public static let repoID = "fixtures"
    public static let key = "fuzz"

    public static func fuzz(_ data: Data) {
        let file = FuzzScratch.write(data, to: "cache.solv")
        switch SolvCacheFile(url: file, repoID: repoID, key: key).read() {
        case .missing:
            preconditionFailure("the cache file was just written")
        case .damaged:
            return
        case .usable(let contents):
            SolvFuzzer.load(contents)
        }
    }
}
