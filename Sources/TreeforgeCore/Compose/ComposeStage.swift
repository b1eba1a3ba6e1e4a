import Foundation
import LibSolv

/// One step of the pipeline: a configured value (its options are stored
/// properties) with one entry point that turns its input into its output.
/// Each stage is testable alone; the orchestrator (`Compose`) only chains
/// them, checking for cancellation, timing, hashing and recording each.
public protocol ComposeStage {
    associatedtype Input
    associatedtype Output

    static var stage: Stage { get }

    func run(_ input: Input, in context: StageContext) throws -> Output

    /// What the stage's result depends on besides the stages before it, as
    /// lines of text (options, and the content of what it reads): hashed with
    /// the previous stage's id into this stage's id (osbuild's stage ids), so
    /// equal ids promise equal results. Stages that read files or
    /// repositories as they run (load, resolve) name what they read through
    /// `output`; the later stages need only their input.
    func identity(of input: Input, output: Output) throws -> [String]
}

/// What every stage gets besides its input: where to report, and whether to stop.
public struct StageContext {
    public let events: ComposeEventSink
    public let cancellation: Cancellation
    let faults: FaultInjection

    public init(events: ComposeEventSink, cancellation: Cancellation = Cancellation(),
                faults: FaultInjection = .fromEnvironment) {
        self.events = events
        self.cancellation = cancellation
        self.faults = faults
    }

    /// For a stage run alone (tests, `compose why`): no events, never cancelled.
    public static var quiet: StageContext { StageContext(events: SilentEvents(), faults: .none) }

    /// The `step`-th step of `stage` (fault injection for tests).
    func reached(_ stage: Stage, step: Int) {
        faults.reached(stage, step: step, cancellation: cancellation)
    }
}

/// A stage's id: SHA-256 over its name, the previous stage's id and its
/// identity lines.
enum StageID {
    static func compute(_ stage: Stage, previous: String?, identity: [String]) -> String {
        var text = "treeforge-stage-v1\nstage \(stage)\nprevious \(previous ?? "-")\n"
        for line in identity { text += line + "\n" }
        return Checksum.sha256.hex(of: Data(text.utf8))
    }
}
