import Foundation

/// Crash and cancel tests stop a compose at a chosen point, inside a stage
/// as well as at its start. `TREEFORGE_FAULT_KILL_AT` makes the compose
/// SIGKILL itself there; `TREEFORGE_FAULT_PAUSE_AT` makes it wait there (up
/// to a minute, until cancelled, or until the file `TREEFORGE_FAULT_RESUME_FILE`
/// names exists) so that a test can signal it mid-stage or watch it there.
/// Both take `STAGE` (as the stage starts) or `STAGE:N` (at its N-th step:
/// install, the N-th package; commit, the N-th file or folder libostree
/// reaches; publish, 1 after the deltas and before the summary, 2 after the
/// summary and before its signature and the record). Unset in production:
/// each check is then one comparison.
public struct FaultInjection: Sendable {
    struct Point: Sendable, Equatable {
        let stage: Stage
        let step: Int?

        init?(_ specification: String?) {
            guard let specification, !specification.isEmpty else { return nil }
            let parts = specification.split(separator: ":", maxSplits: 1).map(String.init)
            guard let stage = Stage(rawValue: parts[0]) else { return nil }
            self.stage = stage
            step = parts.count > 1 ? Int(parts[1]) : nil
        }
    }

    let kill: Point?
    let pause: Point?
    let resumeFile: String?

    public init(killAt: String?, pauseAt: String? = nil, resumeFile: String? = nil) {
        kill = Point(killAt)
        pause = Point(pauseAt)
        self.resumeFile = resumeFile.flatMap { $0.isEmpty ? nil : $0 }
    }

    public static let none = FaultInjection(killAt: nil)

    public static let fromEnvironment = FaultInjection(
        killAt: ProcessInfo.processInfo.environment["TREEFORGE_FAULT_KILL_AT"],
        pauseAt: ProcessInfo.processInfo.environment["TREEFORGE_FAULT_PAUSE_AT"],
        resumeFile: ProcessInfo.processInfo.environment["TREEFORGE_FAULT_RESUME_FILE"])

    /// As `stage` starts.
    func starting(_ stage: Stage, cancellation: Cancellation) {
        act(at: Point(stage: stage, step: nil), cancellation: cancellation)
    }

    /// At the `count`-th step of `stage`.
    func reached(_ stage: Stage, step count: Int, cancellation: Cancellation) {
        act(at: Point(stage: stage, step: count), cancellation: cancellation)
    }

    /// Whether any step of `stage` is watched (so that steps are counted only then).
    func watches(_ stage: Stage) -> Bool {
        (kill?.stage == stage && kill?.step != nil) || (pause?.stage == stage && pause?.step != nil)
    }

    private func act(at point: Point, cancellation: Cancellation) {
        if kill == point { Foundation.kill(getpid(), SIGKILL) }
        if pause == point {
            let until = Date().addingTimeInterval(60)
            while !cancellation.isCancelled && Date() < until && !(resumeFile.map { access($0, F_OK) == 0 } ?? false) {
                usleep(20_000)
            }
        }
    }
}

extension FaultInjection.Point {
    init(stage: Stage, step: Int?) {
        self.stage = stage
        self.step = step
    }
}
