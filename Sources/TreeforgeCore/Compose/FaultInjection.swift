import Foundation

/// Crash tests make a compose SIGKILL itself at a chosen point, inside a
/// stage as well as at its start: `TREEFORGE_FAULT_KILL_AT=STAGE` as the
/// stage starts, `STAGE:N` at its N-th step (install: the N-th package;
/// commit: the N-th file or folder libostree reaches; publish: 1 after the
/// deltas, before the summary, 2 after the summary, before it is signed or
/// recorded). Unset in production: every check is then one comparison.
public struct FaultInjection: Sendable {
    let stage: Stage?
    let step: Int?

    public init(_ specification: String?) {
        guard let specification, !specification.isEmpty else {
            stage = nil
            step = nil
            return
        }
        let parts = specification.split(separator: ":", maxSplits: 1).map(String.init)
        stage = Stage(rawValue: parts[0])
        step = parts.count > 1 ? Int(parts[1]) : nil
    }

    public static let fromEnvironment = FaultInjection(ProcessInfo.processInfo.environment["TREEFORGE_FAULT_KILL_AT"])

    /// As `stage` starts.
    func starting(_ stage: Stage) {
        if self.stage == stage, step == nil { kill(getpid(), SIGKILL) }
    }

    /// At the `count`-th step of `stage`.
    func reached(_ stage: Stage, step count: Int) {
        if self.stage == stage, step == count { kill(getpid(), SIGKILL) }
    }

    /// Whether any step of `stage` is to be watched (to avoid counting otherwise).
    func watches(_ stage: Stage) -> Bool { self.stage == stage && step != nil }
}
