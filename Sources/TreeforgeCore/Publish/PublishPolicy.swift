import Foundation
import LibOSTree

/// How a new ref head is published for mirrors and clients: which static
/// deltas, and whether commits and the summary are signed.
public struct PublishPolicy: Sendable, Equatable {
    /// Deltas from this many previous commits of the ref (0: none).
    public var deltaDepth = 2
    /// Also a delta from nothing (a fresh client's first pull). It
    /// compresses the whole tree, so it is off unless asked for here or by
    /// the repository's own `treeforge.static-delta-from-scratch=true`.
    public var fromScratch = false
    /// libostree's delta tunables.
    public var deltaOptions = StaticDeltaOptions()
    /// Sign commits (before the ref moves) and the summary with this key.
    public var gpgKey: GPGKey?
    /// Published means pulled: the stock `ostree` client pulls each new head
    /// from here (the compose server's own `/repo/`) before its build is
    /// `succeeded` (`PullCheck`).
    public var verifyPullFrom: URL?

    public init() {}

    /// Whether a from-scratch delta is wanted: the flag or the repository's setting.
    func wantsFromScratch(_ repository: OSTreeRepository) -> Bool {
        fromScratch || repository.configBool(group: "treeforge", key: "static-delta-from-scratch") == true
    }
}

/// The signing key type, for the command line (which imports only TreeforgeCore).
public typealias GPGKey = LibOSTree.GPGKey
/// libostree's delta tunables, likewise.
public typealias StaticDeltaOptions = LibOSTree.StaticDeltaOptions
