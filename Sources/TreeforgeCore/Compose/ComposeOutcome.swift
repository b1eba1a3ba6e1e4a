import Foundation

/// The value a compose is planned into before anything is installed: what
/// to build, from which packages. A dry run stops here.
public struct ComposePlan: Sendable {
    public var treefile: Treefile
    public var packages: ResolvedSet
}

/// What a compose produced. (A failure is thrown as a `ComposeError`.)
public enum ComposeOutcome: Sendable {
    case planned(ComposePlan)
    case downloaded(ComposePlan)
    case committed(ComposeSummary)
    /// The inputs equal those of the ref's head commit: nothing was built.
    case unchanged(UnchangedSummary)
    /// Stopped on request; the result says where (and, when the ref had
    /// already moved, which commit is left to publish).
    case cancelled(ComposeResult, stage: Stage)
}

public struct UnchangedSummary: Sendable {
    public var buildID: Int64
    public var ref: String
    public var commit: String
    public var inputHash: String
}

public struct ComposeSummary: Sendable {
    public var buildID: Int64
    public var ref: String
    public var commit: String
    public var parent: String?
    public var version: String
    public var packages: ResolvedSet
    /// Seconds per stage, in pipeline order.
    public var timings: [(Stage, Double)]
}
