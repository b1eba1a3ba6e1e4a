/// Every key of rpm-ostree's treefile format: its value's shape, how
/// includes merge it, whether `${var}` is substituted in it, and whether
/// treeforge's pipeline acts on it.
///
/// To add a key: a row here (in rpm-ostree's serialization order), a typed
/// accessor on `TreefileConfig` if the pipeline reads it, its status in
/// docs/treefile.md, and a test.
struct TreefileKey: Sendable {
    let name: String
    let kind: ValueKind
    let merge: MergeRule
    /// `${var}` substitution (ref, automatic-version-prefix, …).
    var substituted = false
    /// Written by `--print-only`.
    var printed = true
    /// Whether a compose acts on the value; nil: treeforge parses the key but
    /// does not act on it yet, so a compose that sets it fails.
    var support: Support = .notYet

    enum Support: Sendable {
        /// The pipeline acts on every value.
        case actedOn
        /// Consumed while loading (includes, variables).
        case consumed
        /// Only these values match what treeforge does.
        case onlyValues([JSONValue])
        /// Not acted on; rpm-ostree itself only warns about this key.
        case warnOnly(String)
        case notYet
    }
}

/// The shapes treefile values take.
indirect enum ValueKind: Sendable {
    case string
    case bool
    case uint32
    /// A list of strings.
    case strings
    /// A sorted set of strings.
    case stringSet
    /// Package entries: each split on whitespace unless single-quoted, then a sorted set.
    case packageSet
    /// A map of string to string.
    case stringMap
    /// A map of string to any JSON value.
    case jsonMap
    /// One of these strings; aliases map to their canonical spelling.
    case oneOf([String], aliases: [String: String] = [:])
    /// `edition`: a string ("2014", "2024").
    case edition
    /// `releasever`: an unsigned integer or a string, kept as written.
    case releasever
    /// `variables`: a map of name to boolean, unsigned integer or string.
    case variables
    /// `include`: a file name or a list of them.
    case includes
    /// `arch-include`: basearch → a file name or a list of them.
    case archIncludes
    /// `conditional-include`: a list of `{if, include}`.
    case conditionalIncludes
    /// `add-files`: a list of `[source, destination]` pairs.
    case addFiles
    /// `remove-from-packages`: a list of `[package, regex…]`.
    case listOfStringLists
    /// A list of objects with these fields, in this order.
    case objects([ObjectField])
    /// An object with these fields, in this order.
    case object([ObjectField])
    /// `check-passwd` / `check-groups`: `{type: none|previous|file|data, …}`.
    case checkFile(users: Bool)
}

struct ObjectField: Sendable {
    let name: String
    let kind: ValueKind
    var required = true
    /// Written as `null` when absent (rather than left out).
    var nullWhenAbsent = false
}

/// How a key's values from an included file and the including file combine.
enum MergeRule: Sendable {
    /// The including file's value wins; an included file fills it only when unset.
    case includerWins
    /// Included values first, then the including file's (rpm-ostree's order:
    /// with includes A then B, the result is B, A, then the includer).
    case concatenate
    /// Key union; on a collision the including file's value wins (whole, not deep).
    case mapUnion
    /// Sorted set union.
    case setUnion
    /// Concatenate, then keep each package only in the last entry naming it.
    case repoPackages
    /// Only the top-level file's value counts (rpm-ostree never merges it).
    case topLevelOnly
    /// Consumed while loading; never merged.
    case consumed
}

enum TreefileSchema {
    /// rpm-ostree's serialization order (its `--print-only` key order).
    static let keys: [TreefileKey] = [
        TreefileKey(name: "packages", kind: .packageSet, merge: .setUnion, support: .actedOn),
        TreefileKey(name: "repo-packages", kind: .objects([
            ObjectField(name: "repo", kind: .string), ObjectField(name: "packages", kind: .packageSet),
        ]), merge: .repoPackages, support: .actedOn),
        TreefileKey(name: "cliwrap", kind: .bool, merge: .includerWins,
                    support: .warnOnly("cliwrap is deprecated and slated for removal")),
        TreefileKey(name: "cliwrap-binaries", kind: .strings, merge: .concatenate),
        // Derivation (client-side) fields: parsed and printed; a compose rejects them, as rpm-ostree does.
        TreefileKey(name: "base-refspec", kind: .string, merge: .includerWins),
        TreefileKey(name: "container-image-reference", kind: .string, merge: .includerWins),
        TreefileKey(name: "packages-local", kind: .stringMap, merge: .mapUnion),
        TreefileKey(name: "packages-local-fileoverride", kind: .stringMap, merge: .mapUnion),
        TreefileKey(name: "override-remove", kind: .stringSet, merge: .setUnion),
        TreefileKey(name: "ex-override-replace", kind: .objects([
            ObjectField(name: "from", kind: .object([ObjectField(name: "repo", kind: .string)])),
            ObjectField(name: "packages", kind: .packageSet),
        ]), merge: .repoPackages),
        TreefileKey(name: "override-replace-local", kind: .stringMap, merge: .mapUnion),
        TreefileKey(name: "initramfs", kind: .object([
            ObjectField(name: "regenerate", kind: .bool),
            ObjectField(name: "etc", kind: .stringSet, required: false),
            ObjectField(name: "args", kind: .strings, required: false),
        ]), merge: .includerWins),
        TreefileKey(name: "custom", kind: .object([
            ObjectField(name: "url", kind: .string), ObjectField(name: "description", kind: .string, required: false),
        ]), merge: .includerWins),
        TreefileKey(name: "override-commit", kind: .string, merge: .includerWins),
        TreefileKey(name: "unconfigured-state", kind: .string, merge: .includerWins),
        // Compose (base) fields.
        TreefileKey(name: "edition", kind: .edition, merge: .includerWins, support: .consumed),
        TreefileKey(name: "ref", kind: .string, merge: .includerWins, substituted: true, support: .actedOn),
        TreefileKey(name: "metadata", kind: .jsonMap, merge: .mapUnion, substituted: true),
        TreefileKey(name: "basearch", kind: .string, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "rojig", kind: .object([
            ObjectField(name: "name", kind: .string), ObjectField(name: "summary", kind: .string),
            ObjectField(name: "license", kind: .string),
            ObjectField(name: "description", kind: .string, required: false, nullWhenAbsent: true),
        ]), merge: .includerWins, substituted: true),
        TreefileKey(name: "repos", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "lockfile-repos", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "selinux", kind: .bool, merge: .includerWins, support: .onlyValues([.bool(false)])),
        TreefileKey(name: "ignore-devices", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "selinux-label-version", kind: .uint32, merge: .includerWins),
        TreefileKey(name: "sysusers", kind: .oneOf(["compose-auto", "compose-forced"]), merge: .includerWins),
        TreefileKey(name: "ima", kind: .bool, merge: .includerWins, support: .onlyValues([.bool(false)])),
        TreefileKey(name: "gpg-key", kind: .string, merge: .includerWins),
        TreefileKey(name: "include", kind: .includes, merge: .consumed, printed: false, support: .consumed),
        TreefileKey(name: "arch-include", kind: .archIncludes, merge: .consumed, printed: false, support: .consumed),
        TreefileKey(name: "bootstrap-packages", kind: .packageSet, merge: .consumed, printed: false, support: .consumed),
        TreefileKey(name: "ostree-layers", kind: .strings, merge: .concatenate),
        TreefileKey(name: "ostree-override-layers", kind: .strings, merge: .concatenate),
        TreefileKey(name: "exclude-packages", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "platform-module", kind: .string, merge: .topLevelOnly, substituted: true),
        TreefileKey(name: "container", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "recommends", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "documentation", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "install-langs", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "initramfs-args", kind: .strings, merge: .concatenate,
                    support: .warnOnly("initramfs-args is deprecated, use /etc/dracut.conf.d")),
        TreefileKey(name: "no-initramfs", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "readonly-executables", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "boot-location", kind: .oneOf(["new", "modules", "kernel-install"]), merge: .includerWins,
                    support: .onlyValues([.string("new"), .string("modules")])),
        TreefileKey(name: "tmp-is-dir", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "opt-usrlocal", kind: .oneOf(["var", "root", "state-overlay"], aliases: ["stateoverlay": "state-overlay"]),
                    merge: .includerWins, support: .onlyValues([.string("var"), .string("root")])),
        TreefileKey(name: "units", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "default-target", kind: .string, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "machineid-compat", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "releasever", kind: .releasever, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "automatic-version-prefix", kind: .string, merge: .includerWins, substituted: true, support: .actedOn),
        TreefileKey(name: "automatic-version-suffix", kind: .string, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "mutate-os-release", kind: .string, merge: .includerWins, substituted: true, support: .actedOn),
        TreefileKey(name: "etc-group-members", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "preserve-passwd", kind: .bool, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "check-passwd", kind: .checkFile(users: true), merge: .includerWins, support: .actedOn),
        TreefileKey(name: "check-groups", kind: .checkFile(users: false), merge: .includerWins, support: .actedOn),
        TreefileKey(name: "ignore-removed-users", kind: .stringSet, merge: .setUnion, support: .actedOn),
        TreefileKey(name: "ignore-removed-groups", kind: .stringSet, merge: .setUnion, support: .actedOn),
        TreefileKey(name: "postprocess-script", kind: .string, merge: .includerWins, support: .actedOn),
        TreefileKey(name: "postprocess", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "add-files", kind: .addFiles, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "remove-files", kind: .strings, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "remove-from-packages", kind: .listOfStringLists, merge: .concatenate, support: .actedOn),
        TreefileKey(name: "add-commit-metadata", kind: .jsonMap, merge: .mapUnion, substituted: true, support: .actedOn),
        TreefileKey(name: "repo-metadata", kind: .oneOf(["inline", "detached", "disabled"]), merge: .includerWins, support: .actedOn),
        TreefileKey(name: "advisories-metadata", kind: .oneOf(["inline", "detached", "disabled"]), merge: .includerWins),
        TreefileKey(name: "rpmdb", kind: .oneOf(["bdb", "sqlite", "ndb", "target", "host"], aliases: ["b-d-b": "bdb"]),
                    merge: .includerWins, support: .onlyValues([.string("host")])),
        TreefileKey(name: "rpmdb-normalize", kind: .bool, merge: .includerWins),
        TreefileKey(name: "container-cmd", kind: .strings, merge: .includerWins),
        // Never printed.
        TreefileKey(name: "variables", kind: .variables, merge: .consumed, printed: false, support: .consumed),
        TreefileKey(name: "repovars", kind: .stringMap, merge: .mapUnion, printed: false),
        TreefileKey(name: "conditional-include", kind: .conditionalIncludes, merge: .consumed, printed: false, support: .consumed),
    ]

    static let byName: [String: TreefileKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })

    /// rpm-ostree's four legacy underscore spellings and their new names.
    static let legacyNames: [String: String] = [
        "gpg_key": "gpg-key", "boot_location": "boot-location",
        "default_target": "default-target", "automatic_version_prefix": "automatic-version-prefix",
    ]

    /// Derivation fields: client-side only; a compose rejects them.
    static let derivationKeys: Set<String> = [
        "base-refspec", "container-image-reference", "packages-local", "packages-local-fileoverride",
        "override-remove", "ex-override-replace", "override-replace-local", "initramfs", "custom",
        "override-commit", "unconfigured-state",
    ]
}
