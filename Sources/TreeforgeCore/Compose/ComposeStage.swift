import Foundation

/// One step of the pipeline: a configured value with a single entry point
/// that turns its input into its output. Each stage is testable alone; the
/// orchestrator (`Compose`) only chains, times and records them.
public protocol ComposeStage {
    associatedtype Input
    associatedtype Output

    static var stage: Stage { get }

    func run(_ input: Input, progress: ComposeProgress) throws -> Output
}

/// The value a compose is planned into before anything is installed: what
/// to build, from which packages. A dry run stops here.
public struct ComposePlan: Sendable {
    public var treefile: Treefile
    public var packages: ResolvedSet
}

extension TreefileLoader: ComposeStage {
    public static let stage = Stage.load
    public func run(_ treefile: URL, progress: ComposeProgress) throws -> Treefile { try load(treefile) }
}

extension Resolver: ComposeStage {
    public static let stage = Stage.resolve
    public func run(_ treefile: Treefile, progress: ComposeProgress) throws -> ResolvedSet { try resolve(treefile) }
}

extension Installer: ComposeStage {
    public static let stage = Stage.install
    /// Returns the populated root.
    public func run(_ packages: ResolvedSet, progress: ComposeProgress) throws -> URL {
        try install(packages, progress: progress)
        return root
    }
}

extension Postprocess: ComposeStage {
    public static let stage = Stage.postprocess
    public func run(_ root: URL, progress: ComposeProgress) throws -> URL {
        try run(root: root, progress: progress)
        return root
    }
}

extension Committer: ComposeStage {
    public static let stage = Stage.commit
    public func run(_ input: (root: URL, plan: ComposePlan), progress: ComposeProgress) throws -> Result {
        try commit(root: input.root, treefile: input.plan.treefile, packages: input.plan.packages)
    }
}
