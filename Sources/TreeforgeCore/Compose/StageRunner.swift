import Foundation

/// Runs stages in a chain: checks for cancellation, reports start and end,
/// times each, and computes each stage's id from the previous one's.
///
/// Threading: one compose thread.
final class StageRunner {
    let context: StageContext
    private(set) var timings: [(Stage, Double)] = []
    /// Each stage's id, by stage name.
    private(set) var stageIDs: [String: String] = [:]
    private var previousID: String?

    init(context: StageContext) { self.context = context }

    var events: ComposeEventSink { context.events }

    /// Runs one pipeline stage on its input.
    func run<S: ComposeStage>(_ stage: S, _ input: S.Input) throws -> S.Output {
        var id: String?
        let output = try timed(S.stage, id: { id }) {
            let output = try stage.run(input, in: context)
            let identity = try stage.identity(of: input, output: output)
            id = StageID.compute(S.stage, previous: previousID, identity: identity)
            return output
        }
        previousID = id
        stageIDs[S.stage.rawValue] = id
        return output
    }

    /// Runs a step that is not a pipeline stage of its own (the ref lock,
    /// the record) with the same reporting and timing.
    /// `cancellable: false` for a step that must run once started (the record).
    func timed<T>(_ stage: Stage, id: () -> String? = { nil }, cancellable: Bool = true, _ body: () throws -> T) throws -> T {
        if cancellable { try context.cancellation.check(stage) }
        context.faults.starting(stage, cancellation: context.cancellation)
        events.emit(.stageStarted(stage))
        let start = Date()
        var succeeded = false
        defer {
            let seconds = Date().timeIntervalSince(start)
            timings.append((stage, seconds))
            if succeeded { events.emit(.stageFinished(stage, seconds: seconds, inputHash: id())) }
        }
        do {
            let result = try body()
            succeeded = true
            return result
        } catch let error as ComposeError {
            throw error
        } catch let error as ComposeCancelled {
            throw error
        } catch {
            // An error that is not a ComposeError (a file operation's, say)
            // is reported as this stage's.
            throw ComposeError(stage, error.localizedDescription)
        }
    }

    var secondsByStage: [String: Double] {
        Dictionary(timings.map { ($0.0.rawValue, $0.1) }, uniquingKeysWith: { first, second in first + second })
    }
}
