/// Receives progress while a compose runs. The CLI draws it on a terminal;
/// the server will forward it as a structured stream.
public protocol ComposeProgress: AnyObject {
    func stageStarted(_ stage: Stage)
    func stageFinished(_ stage: Stage, seconds: Double)
    func installing(_ nevra: String, index: Int, total: Int)
    /// Something the release engineer should know that does not stop the compose.
    func warning(_ message: String)
}

/// Reports nothing (tests, piped output).
public final class SilentProgress: ComposeProgress {
    public init() {}
    public func stageStarted(_ stage: Stage) {}
    public func stageFinished(_ stage: Stage, seconds: Double) {}
    public func installing(_ nevra: String, index: Int, total: Int) {}
    public func warning(_ message: String) {}
}
