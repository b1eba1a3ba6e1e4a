import Foundation
import LibRPM

/// A compose the server started (`compose tree --parent PID`) dies with the
/// server, by SIGKILL, so that a server killed outright leaves no compose
/// running unsupervised; the build is reconciled `interrupted` at the next
/// start. (The server's own SIGTERM drain cancels its composes with SIGTERM.)
public enum ComposeChildLifetime {
    /// Returns false when `parent` is already gone.
    public static func dieWith(parent: Int32) -> Bool {
        ParentDeathSignal.request(SIGKILL, parent: parent)
    }
}
