import Foundation

/// What the rpm child process is asked to do: install these RPM files into
/// this root. Written as JSON to a file the child reads.
public struct InstallPlan: Codable, Sendable {
    public struct Package: Codable, Sendable {
        public var path: String
        public var nevra: String
        /// The repository it comes from, for error messages.
        public var repository: String = ""
        /// Its repository's `gpgkey=` files when the repository asks for
        /// signature checks (`gpgcheck=1`): the package must carry a valid
        /// signature by one of these keys. Nil: no signature check.
        public var signatureKeys: [String]?
    }

    /// What librpm does with the packages.
    public enum Phase: String, Codable, Sendable {
        /// Unpack every file, run the scriptlets, write the rpmdb.
        case install
        /// The files are in the root already (assembled from the package
        /// cache): run these packages' scriptlets, and nothing else. Every
        /// file is a netshared path to librpm, the packages' dependencies are
        /// the whole set's, and the rpmdb written is thrown away.
        case scriptlets
        /// The files are in the root and the scriptlets have run: write the
        /// rpmdb of the whole set (rpm's --justdb).
        case database
    }

    public var phase = Phase.install
    /// For `scriptlets`: the whole set, whose order (librpm's) the packages
    /// keep; ordering only these would lose what the others put between them.
    public var orderedAmong: [Package] = []
    public var root: String
    /// The rpmdb's path inside the root.
    public var databasePath: String
    /// False leaves out files marked %doc (treefile `documentation: false`).
    public var documentation: Bool
    /// Languages whose `%lang()` files are installed (librpm's
    /// `%_install_langs`); empty: all of them.
    public var installLanguages: [String] = []
    public var packages: [Package]
    /// Folders the sandbox mounts API filesystems on (`/dev`, `/proc`, `/tmp`);
    /// the child reports the rpmdb's metadata for those a package owns, which
    /// the mounts kept librpm from applying to the folders underneath.
    public var mountPoints: [String] = []
    /// Treefile `ignore-devices`: skip the device nodes packages ship (true)
    /// or fail on them.
    public var ignoreDevices = true
    /// Treefile `remove-from-packages`: files librpm does not install.
    public var removeFromPackages: [RemoveFromPackage] = []

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
    /// librpm's RPMCALLBACK_SCRIPT_STOP: the scriptlet returned (a failure follows).
    case scriptletFinished(nevra: String, scriptlet: String, output: [String])
    case scriptletFailed(nevra: String, scriptlet: String, output: [String])
    case unpackFailed(nevra: String)
    /// The transaction could not start or finish; `package` when one is to blame.
    case failed(message: String, package: String?, details: [String])
    case finished(installed: Int)
    /// Something the release engineer should know that does not stop the install.
    case warning(message: String)
}
