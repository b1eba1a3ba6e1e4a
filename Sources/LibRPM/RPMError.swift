import CRpm
import Foundation

/// A failure reported by librpm: the call, the package it concerned, and
/// librpm's own last log message where it left one.
public struct RPMError: Error, CustomStringConvertible, Sendable {
    public let function: String
    public let package: String?
    public let message: String

    public init(function: String, package: String? = nil, message: String) {
        self.function = function
        self.package = package
        self.message = message
    }

    /// An error whose message is librpm's last log line (or `fallback`).
    static func fromLog(_ function: String, package: String? = nil, fallback: String) -> RPMError {
        let logged = rpmlogMessage().map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        return RPMError(function: function, package: package, message: logged.isEmpty ? fallback : logged)
    }

    public var description: String {
        let subject = package.map { "\($0): " } ?? ""
        return "\(subject)\(message) (\(function))"
    }
}

