import Foundation

/// What the rpm child process is asked to do: install these RPM files into
/// this root. Written as JSON to a file the child reads.
public struct InstallPlan: Codable, Sendable {
    public struct Package: Codable, Sendable {
        public var path: String
        public var nevra: String
    }

    public var root: String
    /// The rpmdb's path inside the root.
    public var databasePath: String
    /// False leaves out files marked %doc (treefile `documentation: false`).
    public var documentation: Bool
    public var packages: [Package]

    /// Where librpm writes the rpmdb: rpm-ostree's location, under /usr so it
    /// survives into an OSTree deployment (Debian's default is ~/.rpmdb).
    /// Postprocess links /usr/lib/sysimage/rpm and /var/lib/rpm to it.
    public static let defaultDatabasePath = "/usr/share/rpm"
}

/// A file put into the new root before librpm runs (the users and groups
/// `preserve-passwd` carries over).
public struct SeedFile: Sendable, Equatable {
    /// Relative to the root.
    public var path: String
    public var contents: Data
    public var mode: UInt16
}

/// One line of the child's progress stream (JSON, one object per line).
public enum InstallEvent: Codable, Sendable, Equatable {
    case installing(nevra: String, index: Int, total: Int)
    case scriptletStarted(nevra: String, scriptlet: String)
    case scriptletFailed(nevra: String, scriptlet: String)
    case unpackFailed(nevra: String)
    /// The transaction could not start or finish; `package` when one is to blame.
    case failed(message: String, package: String?, details: [String])
    case finished(installed: Int)
}
