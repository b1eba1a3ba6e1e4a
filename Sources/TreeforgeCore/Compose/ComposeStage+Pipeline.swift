import Foundation
import LibSolv

// The stages the orchestrator chains, and what each one's id covers. The
// download and publish stages conform in their own files.

extension TreefileLoader: ComposeStage {
    public static let stage = Stage.load

    public func run(_ treefile: URL, in context: StageContext) throws -> Treefile { try load(treefile) }

    /// Every byte of every file read (the treefile and its includes), the
    /// variables and the architecture.
    public func identity(of treefile: URL, output: Treefile) throws -> [String] {
        ["treefile \(treefile.path)", "sha256 \(output.sha256)", "basearch \(basearch)",
         "variables \(JSONValue.object(variables.map { ($0.key, $0.value) }).canonicalString)"]
    }
}

extension Resolver: ComposeStage {
    public static let stage = Stage.resolve

    public func run(_ treefile: Treefile, in context: StageContext) throws -> ResolvedSet { try resolve(treefile, events: context.events) }

    /// The flattened treefile, each repository's definition and the
    /// checksum of the repomd.xml read, and the lockfiles.
    public func identity(of treefile: Treefile, output: ResolvedSet) throws -> [String] {
        var lines = ["treefile \(treefile.config.canonicalJSON)", "basearch \(basearch)", "lockfile-strict \(lockfileStrict)"]
        for repo in output.repos.sorted(by: { $0.id < $1.id }) {
            lines.append("repo \(repo.id) \(repo.path) revision \(repo.revision ?? "-") repomd \(repo.repomdSHA256 ?? "-") gpgcheck \(repo.gpgcheck)")
            // The .repo file's options choose among the same metadata's packages.
            lines.append("repo-options \(repo.id) priority \(repo.priority) cost \(repo.cost) exclude \(repo.excludePackages.joined(separator: ",")) include \(repo.includePackages.joined(separator: ","))")
        }
        for (name, locked) in (lockfile?.packages ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append("locked \(name) \(locked.version) \(locked.digest ?? "-")")
        }
        return lines
    }
}

extension Installer: ComposeStage {
    public static let stage = Stage.install

    /// Returns the populated root.
    public func run(_ packages: ResolvedSet, in context: StageContext) throws -> URL {
        try install(packages, context: context)
        return root
    }

    /// The packages (by checksum), librpm's options, the seeded users and
    /// groups, and SOURCE_DATE_EPOCH (the rpmdb's install times).
    public func identity(of packages: ResolvedSet, output: URL) throws -> [String] {
        var lines = packages.packages.map { "package \($0.nevra) \($0.checksumType ?? "-"):\($0.checksum ?? "-")" }.sorted()
        lines.append("documentation \(documentation) install-langs \(installLanguages.joined(separator: ",")) ignore-devices \(ignoreDevices)")
        lines += removeFromPackages.map { "remove-from-packages \($0.package) \($0.patterns.joined(separator: " "))" }
        lines += seedFiles.map { "seed \($0.path) \(String($0.mode, radix: 8)) \(Checksum.sha256.hex(of: $0.contents))" }
        lines.append("database \(databasePath) source-date-epoch \(sourceDateEpoch)")
        return lines
    }
}

extension Postprocess: ComposeStage {
    public static let stage = Stage.postprocess

    public func run(_ root: URL, in context: StageContext) throws -> ShapedRoot {
        ShapedRoot(root: root, changes: try run(root: root, events: context.events))
    }

    /// The flattened treefile, the files it names, what its scripts can
    /// read, the version `mutate-os-release` writes and what it reads of the
    /// previous commit (the users and groups `check-passwd` and
    /// `check-groups: previous` compare with).
    public func identity(of root: URL, output: ShapedRoot) throws -> [String] {
        var lines = ["treefile \(treefile.config.canonicalJSON)"]
        // Their content, not the commit's checksum: every commit is new (its
        // parent, its build id), so the checksum would make no two composes'
        // ids equal even when the tree they make is.
        for path in ["usr/lib/passwd", "usr/lib/group"] {
            lines.append("previous \(path) \(try previous?.file(path).map(Checksum.sha256.hex(of:)) ?? "-")")
        }
        for file in treefile.externalFiles.sorted(by: { ($0.key, $0.name) < ($1.key, $1.name) }) {
            lines.append("file \(try file.identity(in: .postprocess))")
        }
        if let shaping {
            // The version reaches the tree only through mutate-os-release; each
            // compose of a ref gets a new one, so counting it elsewhere would
            // make no two composes' ids equal.
            let version = treefile.config.mutateOsRelease == nil ? "-" : shaping.version ?? "-"
            lines.append("version \(version) source-date-epoch \(shaping.sourceDateEpoch)")
            if let folder = shaping.scriptFolder { lines.append("script-folder \(try folder.digest())") }
        }
        return lines
    }
}

/// A root after postprocessing, with what the treefile's keys changed in it
/// (a line each, for the build log).
public struct ShapedRoot: Sendable {
    public var root: URL
    public var changes: [String]
}

extension Committer: ComposeStage {
    public static let stage = Stage.commit

    public func run(_ input: (root: URL, plan: ComposePlan), in context: StageContext) throws -> Result {
        try commit(root: input.root, treefile: input.plan.treefile, packages: input.plan.packages, context: context)
    }

    /// The ref, parent, version, time, signing key and metadata of the
    /// commit (the tree itself is the previous stages').
    public func identity(of input: (root: URL, plan: ComposePlan), output: Result) throws -> [String] {
        var lines = ["ref \(input.plan.treefile.ref) move \(moveRef)", "parent \(output.parent ?? "-")", "version \(output.version)",
                     "timestamp \(Self.sourceDateEpoch.map(String.init) ?? "now")", "gpg-key \(gpgKey?.id ?? "-")",
                     "added-metadata \(JSONValue.object(addedMetadata.map { ($0.key, $0.value) }).canonicalString)"]
        for (key, value) in extraMetadata.sorted(by: { $0.key < $1.key }) { lines.append("metadata \(key) \(value.canonicalText)") }
        return lines
    }
}
