import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

@Suite struct TreefileLoaderTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("treefile") }

    func load(_ name: String, arch: String = "x86_64", variables: [String: JSONValue] = [:]) throws -> Treefile {
        try TreefileLoader(basearch: arch, variables: variables).load(dir.path(name))
    }

    func loadError(_ name: String, arch: String = "x86_64") throws -> ComposeError {
        try #require(throws: ComposeError.self) { try load(name, arch: arch) }
    }

    @Test func readsYAML() throws {
        try dir.write("t.yaml", """
            ref: os/x86_64/base
            releasever: 40
            repos: [base, updates]
            packages:
              - bash
              - "coreutils systemd"
              - "'glibc >= 2.36' kernel"
            """)
        let treefile = try load("t.yaml")
        #expect(treefile.ref == "os/x86_64/base")
        #expect(treefile.releasever == "40")
        #expect(treefile.config["releasever"] == .uint(40))
        #expect(treefile.repos == ["base", "updates"])
        #expect(treefile.packages == ["bash", "coreutils", "glibc >= 2.36", "kernel", "systemd"])
        #expect(treefile.sha256.count == 64)
    }

    @Test func readsJSON() throws {
        try dir.write("t.json", #"{"ref": "os/base", "repos": ["base"], "packages": ["bash"], "releasever": "40"}"#)
        let treefile = try load("t.json")
        #expect(treefile.ref == "os/base")
        #expect(treefile.packages == ["bash"])
        #expect(treefile.config["releasever"] == .string("40"))
    }

    @Test func emptyFileIsAnEmptyTreefile() throws {
        try dir.write("t.yaml", "# nothing\n")
        let treefile = try load("t.yaml")
        #expect(treefile.config.printable.prettyString == "{\n  \"packages\": [],\n  \"basearch\": \"x86_64\"\n}")
    }

    @Test func includedFilesMergeUnderTheIncluder() throws {
        try dir.write("common/base.yaml", """
            ref: os/common
            repos: [base]
            packages: [bash, coreutils]
            postprocess: [base-script]
            """)
        try dir.write("extra.yaml", "packages: [vim]\npostprocess: [extra-script]\n")
        try dir.write("empty.yaml", "# nothing here\n")
        try dir.write("t.yaml", """
            include: [common/base.yaml, extra.yaml, empty.yaml]
            ref: os/server
            repos: [updates]
            packages: [httpd]
            postprocess: [own-script]
            """)
        let treefile = try load("t.yaml")
        #expect(treefile.ref == "os/server")
        #expect(treefile.repos == ["base", "updates"])
        #expect(treefile.packages == ["bash", "coreutils", "httpd", "vim"])
        // rpm-ostree's order: later includes before earlier ones, the includer last.
        #expect(treefile.config.postprocess == ["extra-script", "base-script", "own-script"])
        #expect(treefile.sourceFiles.map(\.lastPathComponent) == ["t.yaml", "base.yaml", "extra.yaml", "empty.yaml"])
    }

    @Test func mapsMergeShallowWithTheIncluderWinning() throws {
        try dir.write("inc.yaml", "metadata: {a: 1, deep: {x: 1, y: 2}, only-included: true}\n")
        try dir.write("t.yaml", "include: inc.yaml\nmetadata: {a: 2, deep: {z: 3}}\n")
        let metadata = try load("t.yaml").config.metadata
        #expect(metadata["a"] == .uint(2))
        #expect(metadata["deep"] == .object([("z", .uint(3))]))
        #expect(metadata["only-included"] == .bool(true))
    }

    @Test func repoPackagesKeepEachPackageInItsLastEntry() throws {
        try dir.write("inc.yaml", """
            repo-packages:
              - {repo: baserepo, packages: [blah, bloo]}
              - {repo: foo, packages: [qwert]}
            """)
        try dir.write("t.yaml", """
            include: inc.yaml
            repo-packages:
              - {repo: foo2, packages: [qwert]}
              - {repo: baserepo, packages: [blah]}
            """)
        let entries = try load("t.yaml").config.repoPackages
        #expect(entries == [RepoPackages(repo: "baserepo", packages: ["bloo"]),
                            RepoPackages(repo: "foo2", packages: ["qwert"]),
                            RepoPackages(repo: "baserepo", packages: ["blah"])])
    }

    @Test func archIncludeAndPackagesForTheArchOnly() throws {
        try dir.write("x86.yaml", "packages: [grub2]\n")
        try dir.write("s390x.yaml", "packages: [s390utils]\n")
        try dir.write("t.yaml", """
            arch-include: {x86_64: x86.yaml, s390x: [s390x.yaml]}
            packages: [bash]
            packages-x86_64: [microcode_ctl]
            packages-s390x: [s390-tools]
            """)
        #expect(try load("t.yaml").packages == ["bash", "grub2", "microcode_ctl"])
        #expect(try load("t.yaml", arch: "s390x").packages == ["bash", "s390-tools", "s390utils"])
    }

    @Test func conditionalIncludes() throws {
        try dir.write("stream.yaml", "packages: [stream-tools]\n")
        try dir.write("old.yaml", "packages: [legacy]\n")
        try dir.write("t.yaml", """
            releasever: 40
            variables: {stream: "next", rhel: false, level: 3}
            conditional-include:
              - if: stream == "next"
                include: stream.yaml
              - if: releasever < 39
                include: old.yaml
              - if: [level >= 2, rhel == false, basearch == "x86_64"]
                include:
                  packages: [inline-pkg]
                  postprocess: [inline-script]
            packages: [bash]
            """)
        let treefile = try load("t.yaml")
        #expect(treefile.packages == ["bash", "inline-pkg", "stream-tools"])
        #expect(treefile.config.postprocess == ["inline-script"])
        #expect(!treefile.sourceFiles.map(\.lastPathComponent).contains("old.yaml"))
        // Command-line variables win over the treefile's.
        #expect(try load("t.yaml", variables: ["stream": .string("stable")]).packages == ["bash", "inline-pkg"])
    }

    @Test func conditionsThatAreNeverTrueAreNeverOpened() throws {
        try dir.write("t.yaml", """
            variables: {enabled: false}
            conditional-include:
              - if: enabled == true
                include: does-not-exist.yaml
            """)
        #expect(try load("t.yaml").packages.isEmpty)
    }

    @Test func substitutesVariablesWhereRpmOstreeDoes() throws {
        try dir.write("t.yaml", """
            ref: fedora/${releasever}/${basearch}/${stream}
            releasever: 40
            variables: {stream: coreos}
            automatic-version-prefix: "${releasever}.<date:%Y%m%d>"
            mutate-os-release: "${releasever}"
            add-commit-metadata: {stream: "${stream}", nested: {kept: "${stream}"}}
            packages: ["${stream}"]
            metadata: {undefined: "${nope}"}
            """)
        let config = try load("t.yaml").config
        #expect(config.ref == "fedora/40/x86_64/coreos")
        #expect(config.automaticVersionPrefix == "40.<date:%Y%m%d>")
        #expect(config.mutateOsRelease == "40")
        #expect(config.addCommitMetadata["stream"] == .string("coreos"))
        #expect(config.addCommitMetadata["nested"] == .object([("kept", .string("${stream}"))]))
        #expect(config.packages == ["${stream}"])
        #expect(config.metadata["undefined"] == .string("${nope}"))
    }

    @Test func containerAndEditionImplications() throws {
        try dir.write("c.yaml", "container: true\nselinux: true\n")
        let container = try load("c.yaml").config
        #expect(container.selinux == false)
        #expect(container.bootLocation == "modules")
        #expect(container.tmpIsDir && !container.preservePasswd)
        #expect(container.checkPasswd == .none && container.checkGroups == .none)
        try dir.write("e.yaml", "edition: \"2024\"\ntmp-is-dir: false\n")
        let edition = try load("e.yaml").config
        #expect(edition.bootLocation == "modules")
        #expect(edition.tmpIsDir == false)
    }

    @Test func legacySpellings() throws {
        try dir.write("ok.yaml", "gpg_key: ABCD\ndefault_target: multi-user.target\n")
        let config = try load("ok.yaml").config
        #expect(config.gpgKey == "ABCD")
        #expect(config.defaultTarget == "multi-user.target")
        try dir.write("both.yaml", "gpg-key: A\ngpg_key: B\n")
        let error = try loadError("both.yaml")
        #expect(error.message.contains("`gpg_key` and `gpg-key` are the legacy and new spellings"))
        #expect(error.subject?.hasSuffix("both.yaml:2:1") == true)
    }

    /// rpm-ostree's four legacy keys (its LegacyTreeComposeConfigFields) and
    /// two legacy values (serde aliases) are read in either format and
    /// written under their new spelling only.
    @Test func legacySpellingsAreCanonicalizedInJSONToo() throws {
        try dir.write("t.json", """
            {"gpg_key": "ABCD", "boot_location": "modules", "default_target": "graphical.target",
             "automatic_version_prefix": "40.<date:%Y%m%d>", "rpmdb": "b-d-b", "opt-usrlocal": "stateoverlay"}
            """)
        let treefile = try load("t.json")
        #expect(treefile.warnings.isEmpty, "legacy names are known names, not unknown keys")
        #expect(treefile.config.canonicalJSON == #"{"automatic-version-prefix":"40.<date:%Y%m%d>","basearch":"x86_64","boot-location":"modules","#
                + #""default-target":"graphical.target","gpg-key":"ABCD","opt-usrlocal":"state-overlay","packages":[],"rpmdb":"bdb"}"#)
        // The included file's legacy spelling loses to the includer's new one, as any value does.
        try dir.write("inc.yaml", "default_target: rescue.target\n")
        try dir.write("top.yaml", "include: inc.yaml\ndefault-target: multi-user.target\n")
        #expect(try load("top.yaml").config.defaultTarget == "multi-user.target")
        // A value rpm-ostree no longer has (rpm-ostree dropped `boot-location: both` in 2019) is refused under either name.
        try dir.write("both.yaml", "boot_location: both\n")
        #expect(try loadError("both.yaml").message == "`boot_location` must be one of \"new\", \"modules\", \"kernel-install\"")
    }

    @Test func symlinkedEntryPointIncludesRelativeToTheLinksFolder() throws {
        try dir.write("real/t.yaml", "include: common.yaml\n")
        try dir.write("real/common.yaml", "packages: [from-real]\n")
        try dir.write("link/common.yaml", "packages: [from-link]\n")
        try FileManager.default.createSymbolicLink(atPath: dir.path("link/t.yaml").path, withDestinationPath: "../real/t.yaml")
        #expect(try load("link/t.yaml").packages == ["from-link"])
    }

    @Test func checkedValueShapes() throws {
        try dir.write("t.yaml", """
            rpmdb: b-d-b
            opt-usrlocal: stateoverlay
            check-passwd: {type: data, entries: {root: 0, bin: [1, 1]}}
            add-files: [[motd, /etc/motd]]
            remove-from-packages: [[systemd, "/usr/lib/systemd/.*"]]
            """)
        try dir.write("motd", "hi\n")
        let config = try load("t.yaml").config
        #expect(config.rpmdb == "bdb")
        #expect(config.optUsrlocal == "state-overlay")
        #expect(config.checkPasswd == .data(["root": [0], "bin": [1, 1]]))
        #expect(config.addFiles == [AddFile(source: "motd", destination: "/etc/motd")])
        #expect(config.removeFromPackages == [RemoveFromPackage(package: "systemd", patterns: ["/usr/lib/systemd/.*"])])
    }

    @Test(arguments: [
        ("a b", ["a", "b"]),
        ("'a >= 1.0' b", ["a >= 1.0", "b"]),
        ("  spaced\tout  ", ["spaced", "out"]),
        ("\"x\"", ["\"x\""]),
        ("foo'bar'", ["foo", "bar"]),
    ])
    func splitsPackageEntries(entry: String, expected: [String]) {
        #expect(PackageSpec.split(entry) == expected)
    }

    @Test func unbalancedQuote() throws {
        try dir.write("t.yaml", "packages:\n  - bash\n  - \"foobar >= 1.0'\"\n")
        let error = try loadError("t.yaml")
        #expect(error.message.contains("missing terminating quote"))
        #expect(error.subject?.hasSuffix("t.yaml:3:5") == true)
    }
}
