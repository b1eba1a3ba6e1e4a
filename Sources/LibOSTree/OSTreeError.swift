import COSTree

/// A failure reported by libostree or GLib: the call, and the GError's
/// domain, code and message.
public struct OSTreeError: Error, CustomStringConvertible, Sendable {
    public let function: String
    public let domain: String
    public let code: Int32
    public let message: String

    public init(function: String, domain: String = "treeforge", code: Int32 = 0, message: String) {
        self.function = function
        self.domain = domain
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) (\(function))" }
}

/// Every GError-returning call goes through here: on failure the GError is
/// turned into an `OSTreeError` and freed.
func gcall(_ function: String, _ body: (UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> gboolean) throws {
    var error: UnsafeMutablePointer<GError>?
    if body(&error) != 0 { return }
    guard let error else {
        throw OSTreeError(function: function, message: "failed without an error message")
    }
    let failure = OSTreeError(
        function: function,
        domain: String(cString: g_quark_to_string(error.pointee.domain)),
        code: error.pointee.code,
        message: String(cString: error.pointee.message))
    g_error_free(error)
    throw failure
}
