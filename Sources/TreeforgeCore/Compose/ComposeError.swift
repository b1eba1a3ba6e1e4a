/// The steps of a compose, in pipeline order. `lock` is the wait for the
/// ref (one compose per ref); `publish` also names publishing outside a
/// compose (`treeforge publish`, pruning's summary).
public enum Stage: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case load, resolve, lock, download, install, postprocess, commit, publish, record
    public var description: String { rawValue }
}

/// Why a compose failed: the stage, what it was working on (a file and line,
/// a package, a repository, a ref), and the cause in words a release engineer
/// can act on. `details` carries the underlying tool's own lines (libsolv's
/// problem text, librpm's problems, the tail of a scriptlet's output).
public struct ComposeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let stage: Stage
    public let subject: String?
    public let message: String
    public let details: [String]

    public init(_ stage: Stage, subject: String? = nil, _ message: String, details: [String] = []) {
        self.stage = stage
        self.subject = subject
        self.message = message
        self.details = details
    }

    public var description: String {
        var text = "\(stage): "
        if let subject { text += "\(subject): " }
        text += message
        for line in details { text += "\n  " + line.replacingOccurrences(of: "\n", with: "\n  ") }
        return text
    }
}
