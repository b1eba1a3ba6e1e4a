/// A failure reported by libsolv, with the call that failed and libsolv's own
/// message (`pool_errstr`) where it gives one.
public struct SolvError: Error, CustomStringConvertible, Sendable {
    public let function: String
    public let message: String
    public let path: String?

    public init(function: String, message: String, path: String? = nil) {
        self.function = function
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(message) (\(function))" }
        return "\(message) (\(function))"
    }
}
