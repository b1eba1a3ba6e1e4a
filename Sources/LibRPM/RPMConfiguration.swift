import CRpm
import Foundation

/// librpm's process-wide configuration (macros, rpmrc). librpm keeps this in
/// global state, which is one reason transactions run in a child process.
public enum RPMConfiguration {
    /// Reads rpm's configuration and overrides the macros a compose depends
    /// on. Call once per process, before any transaction.
    ///
    /// - Parameter databasePath: the rpmdb's path inside the target root.
    ///   Debian's default (`~/.rpmdb`) would put it outside /usr.
    public static func load(databasePath: String, extraMacros: [String: String] = [:]) throws {
        guard rpmReadConfigFiles(nil, nil) == 0 else {
            throw RPMError.fromLog("rpmReadConfigFiles", fallback: "cannot read rpm's configuration")
        }
        var macros = extraMacros
        macros["_dbpath"] = databasePath
        // The transaction requires valid digests only, whatever the host's
        // configuration: signatures are checked per repository beforehand.
        macros["_pkgverify_level"] = "digest"
        for (name, value) in macros.sorted(by: { $0.key < $1.key }) {
            rpmPushMacro(nil, name, nil, value, RMIL_CMDLINE)
        }
        // Warnings and errors only; librpm writes them to stderr.
        rpmlogSetMask(Int32((1 << (RPMLOG_WARNING.rawValue + 1)) - 1))
    }

    /// Defines (or redefines) a macro for the rest of the process, such as
    /// `_netsharedpath` once the packages are known.
    public static func define(_ name: String, _ value: String) {
        rpmPushMacro(nil, name, nil, value, RMIL_CMDLINE)
    }

    /// The value a macro expands to, for diagnostics and tests.
    public static func expand(_ expression: String) -> String {
        var expanded: UnsafeMutablePointer<CChar>?
        guard rpmExpandMacros(nil, expression, &expanded, 0) >= 0, let expanded else { return "" }
        defer { free(expanded) }
        return String(cString: expanded)
    }
}
