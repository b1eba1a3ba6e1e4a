import Foundation
import Testing
import TestSupport

/// `treeforge compose tree` end to end on the fixtures, checked with the
/// real ostree, rpm and dnf. Needs root: librpm chroots into the new root.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ComposeTreeTests {
    @Test func composesTheFixturesIntoAnOSTreeRepository() throws {
        let harness = try ComposeHarness()
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        let result = try harness.compose(treefile)
        #expect(result.status == 0, "\(result.stderr)")
        let commit = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(result.stdout.contains("Committed \(harness.ref) version "))
        #expect(result.stdout.contains("commit:   \(commit)"))
        #expect(result.stdout.contains("packages: 8"))
        for stage in ["load", "resolve", "install", "postprocess", "commit", "record"] {
            #expect(result.stdout.contains("\(stage) "), "no time for \(stage)")
        }
        // Piped progress: plain lines, one per package and one per stage.
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(!result.stderr.contains("\r") && !result.stderr.contains("\u{1B}"), "\(result.stderr.debugDescription)")
        let installs = lines.filter { $0.hasPrefix("install [") }
        #expect(installs.map { $0.split(separator: " ")[1] } == (1...8).map { "[\($0)/8]" }, "\(installs)")
        #expect(installs.map { String($0.split(separator: " ")[2]) }.sorted() == Fixtures.defaultSet)
        let stages = lines.filter { !$0.hasPrefix("install [") }
        #expect(stages.map { String($0.split(separator: " ")[0]) } == ["load", "resolve", "lock", "download", "install", "postprocess", "commit", "publish", "record"],
                "\(stages)")
        #expect(stages.allSatisfy { $0.range(of: #"^[a-z]+ done in \d+\.\d\ds$"#, options: .regularExpression) != nil }, "\(stages)")
        #expect(lines.firstIndex(of: installs.last ?? "") ?? 0 < lines.firstIndex { $0.hasPrefix("install done") } ?? 0)

        try Oracle.ostree(harness.repo, ["fsck"])
        let log = try Oracle.ostree(harness.repo, ["log", harness.ref])
        #expect(log.contains("commit \(commit)"))
        #expect(log.range(of: #"Version: \d{8}\.0"#, options: .regularExpression) != nil)

        // Modes, symlinks and /etc, /var content, as ostree stores them.
        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref])
        func entry(_ path: String) -> String? {
            listing.split(separator: "\n").first { $0.hasSuffix(" \(path)") || $0.contains(" \(path) -> ") }.map(String.init)
        }
        #expect(entry("/usr/bin/fixture-app")?.hasPrefix("-00755 0 0") == true)
        #expect(entry("/usr/share/fixture-app/private")?.hasPrefix("d00700") == true)
        #expect(entry("/usr/share/fixture-app/private/token")?.hasPrefix("-00600") == true)
        #expect(entry("/usr/bin/fixture-app-link")?.hasSuffix("/usr/bin/fixture-app-link -> fixture-app") == true)
        #expect(entry("/usr/share/fixture-app/current")?.hasSuffix("-> data") == true)
        #expect(entry("/bin")?.hasSuffix("/bin -> usr/bin") == true)
        // OSTree's layout: /etc's defaults in /usr/etc, /var empty (its directories as tmpfiles.d entries).
        #expect(entry("/usr/etc/fixture-app.conf") != nil)
        #expect(entry("/etc") == nil)
        #expect(entry("/var")?.hasPrefix("d00755") == true)
        #expect(entry("/var/lib") == nil)
        let autovar = try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf"])
        #expect(autovar.contains("d /var/lib/fixture-app 0755 root root - -\n"))
        #expect(!autovar.contains("state"), "a file under /var is dropped, not recreated")
        #expect(entry("/usr/share/rpm/rpmdb.sqlite") != nil)
        #expect(entry("/usr/lib/sysimage/rpm")?.hasSuffix("-> ../../share/rpm") == true)
        #expect(entry("/dev/null") == nil, "a scriptlet's stray /dev/null must not be committed")

        // The scriptlets ran, in both interpreters.
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        func read(_ path: String) -> String? {
            try? String(contentsOf: checkout.appendingPathComponent(path), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(read("usr/etc/fixture-app.pre-ran") == "pre 1")
        #expect(read("usr/share/fixture-app/post-ran") == "post 1")
        #expect(read("usr/share/fixture-lib/lua-post-ran") == "fixture-lib 2.0-1 %post ran in lua")
        #expect(read("usr/etc/fixture-app.conf") == "greeting=hello")

        // The rpmdb lists exactly the resolved set, which is dnf's choice.
        let installed = try Oracle.rpmQueryAll(root: checkout)
        #expect(installed == Fixtures.defaultSet)
        #expect(try Oracle.rpmQueryAll(root: checkout, databasePath: "/usr/lib/sysimage/rpm") == installed, "through the symlink")
        #expect(try Oracle.dnfResolve(Fixtures.defaultRequest, repository: Fixtures.repository()) == installed)

        let build = try harness.lastBuild()
        #expect(build.status == "succeeded")
        #expect(build.packages == "[" + Fixtures.defaultSet.map { "\"\($0)\"" }.joined(separator: ",") + "]")
    }

    @Test func aSecondComposeIsTheNextVersionOnTheSameRef() throws {
        let harness = try ComposeHarness()
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)
        let second = try harness.composeOK(treefile, ["--force-nocache"])
        #expect(first != second)
        let log = try Oracle.ostree(harness.repo, ["log", harness.ref])
        #expect(log.contains("commit \(first)") && log.contains("commit \(second)"))
        #expect(log.range(of: #"Version: \d{8}\.1"#, options: .regularExpression) != nil)
        #expect(try Oracle.ostree(harness.repo, ["rev-parse", "\(second)^"]).contains(first))

        let pinned = try harness.compose(treefile, ["--version", "42.0", "--force-nocache"])
        #expect(pinned.status == 0)
        #expect(try Oracle.ostree(harness.repo, ["log", harness.ref]).contains("Version: 42.0"))
    }

    @Test func unchangedInputsCommitNothing() throws {
        let harness = try ComposeHarness("unchanged")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let marker = harness.dir.path("changed")
        let first = try harness.composeOK(treefile, ["--touch-if-changed", marker.path])
        #expect(FileManager.default.fileExists(atPath: marker.path))
        try FileManager.default.removeItem(at: marker)

        let again = try harness.compose(treefile, ["--touch-if-changed", marker.path])
        #expect(again.status == 3)
        #expect(again.stdout.hasPrefix("No changes: the inputs of \(harness.ref) are those of its head \(first)"))
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == first)
        #expect(try harness.buildRows().map(\.status) == ["succeeded", "unchanged"])

        // A changed input (another package set) composes again.
        let changed = try harness.treefile(["fixture-oldtool", "fixture-mta"], in: "changed")
        #expect(try harness.composeOK(changed) != first)
    }

    @Test func writeCommitIDLeavesTheRef() throws {
        let harness = try ComposeHarness("commitid")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)
        let idFile = harness.dir.path("commit-id")
        let result = try harness.compose(treefile, ["--force-nocache", "--write-commitid-to", idFile.path])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try String(contentsOf: idFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(written.count == 64 && written != first)
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == first)
        try Oracle.ostree(harness.repo, ["show", written])
    }

    @Test func dryRunPrintsTheTransactionAndChangesNothing() throws {
        let harness = try ComposeHarness()
        let result = try harness.compose(try harness.treefile(Fixtures.defaultRequest), ["--dry-run"])
        #expect(result.status == 0)
        for nevra in Fixtures.defaultSet { #expect(result.stdout.contains(nevra)) }
        #expect(result.stdout.contains("Resolved \(harness.ref): 8 packages from fixtures"))
        #expect(!FileManager.default.fileExists(atPath: harness.repo.path))
        #expect(!FileManager.default.fileExists(atPath: harness.database.path))
    }

    @Test func keepsTheWorkdirWhenAsked() throws {
        let harness = try ComposeHarness()
        let workdir = harness.dir.path("work")
        try harness.composeOK(try harness.treefile(["fixture-oldtool"]), ["--workdir", workdir.path, "--cachedir", harness.dir.path("cache").path])
        #expect(FileManager.default.fileExists(atPath: workdir.appendingPathComponent("rootfs/usr/share/rpm/rpmdb.sqlite").path))
        #expect(FileManager.default.fileExists(atPath: workdir.appendingPathComponent("install.log").path))
        #expect(try !FileManager.default.contentsOfDirectory(atPath: harness.dir.path("cache/solv").path).isEmpty)
    }
}

/// Versions, parents and commit metadata.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct CommitMetadataTests {
    @Test func automaticVersionsAndAddedMetadata() throws {
        let harness = try ComposeHarness("versions")
        let treefile = try harness.treefile(["fixture-oldtool"], extra: """
            releasever: 40
            automatic-version-prefix: "${releasever}.<date:%Y%m%d>"
            add-commit-metadata:
              fedora-coreos.stream: testing
              build-count: 3
              nested: {enabled: true, tags: [a, b]}
            """)
        let json = try harness.dir.write("meta.json", #"{"from-json": 1.5, "build-count": 4}"#)
        let first = try harness.composeOK(treefile, ["--add-metadata-string", "fedora-coreos.stream=cli", "--add-metadata-from-json", json.path])
        let day = { () -> String in
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd"
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date())
        }()
        func key(_ commit: String, _ name: String) throws -> String {
            try Oracle.ostree(harness.repo, ["show", commit, "--print-metadata-key=\(name)"]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try key(first, "version") == "'40.\(day).0'")
        #expect(try key(first, "fedora-coreos.stream") == "'cli'")
        #expect(try key(first, "build-count") == "uint64 4")
        #expect(try key(first, "from-json") == "1.5")
        #expect(try key(first, "nested").contains("'tags': <['a', 'b']>"))
        #expect(try key(first, "treeforge.rpmdb.pkglist") == "[<['fixture-newtool', '0', '2.0', '1', 'noarch']>]")
        #expect(try key(first, "treeforge.repos") == "{'fixtures': <'1700000000'>}")

        let second = try harness.composeOK(treefile, ["--force-nocache"])
        #expect(try key(second, "version") == "'40.\(day).1'")
        let third = try harness.composeOK(treefile, ["--force-nocache", "--previous-version", "40.\(day).7", "--no-parent"])
        #expect(try key(third, "version") == "'40.\(day).8'")
        #expect(try Oracle.ostree(harness.repo, ["log", harness.ref]).components(separatedBy: "commit ").count - 1 == 1, "no parent: a new history")
    }
}

/// Reproducibility and what a pipeline reads after a compose.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ReproducibilityTests {
    @Test func sameInputsTwiceGiveTheSameCommit() throws {
        let one = try ComposeHarness("repro")
        let two = try ComposeHarness("repro")
        let environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        var commits: [String] = []
        for harness in [one, two] {
            let result = try harness.compose(try harness.treefile(Fixtures.defaultRequest), environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            commits.append(try #require(try Oracle.ostreeRev(harness.repo, harness.ref)))
        }
        #expect(commits[0] == commits[1])
        let log = try Oracle.ostree(one.repo, ["log", one.ref])
        #expect(log.contains("Version: 20231114.0"))
        #expect(log.contains("Date:  2023-11-14 22:13:20 +0000"))
    }

    @Test func composeJSON() throws {
        let harness = try ComposeHarness("composejson")
        let first = try harness.composeOK(try harness.treefile(["fixture-app", "fixture-oldtool"], in: "one"))
        let file = harness.dir.path("compose.json")
        let second = try harness.composeOK(try harness.treefile(["fixture-app", "fixture-legacy"], in: "two"),
                                           ["--write-composejson-to", file.path])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        #expect(json["ref"] as? String == harness.ref)
        #expect(json["ostree-commit"] as? String == second)
        #expect(json["ostree-parent-commit"] as? String == first)
        #expect((json["ostree-content-checksum"] as? String)?.count == 64)
        #expect((json["ostree-n-content-written"] as? Int ?? 0) > 0)
        let diff = try #require(json["pkgdiff"] as? [String: Any])
        #expect(diff["removed"] as? [String] == ["fixture-newtool-2.0-1.noarch"])
        #expect(diff["added"] as? [String] == ["fixture-legacy-1.0-1.noarch"])
        #expect((diff["downgraded"] as? [[String: String]])?.first?["name"] == "fixture-lib")
    }
}

@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct RepoMetadataTests {
    @Test(arguments: ["inline", "detached", "disabled"])
    func packageListPlacement(mode: String) throws {
        let harness = try ComposeHarness("repo-metadata")
        let commit = try harness.composeOK(try harness.treefile(["fixture-oldtool"], extra: "repo-metadata: \(mode)\n"))
        let inCommit = try Command.run(["ostree", "--repo=\(harness.repo.path)", "show", commit, "--print-metadata-key=treeforge.rpmdb.pkglist"])
        let detached = try Command.run(["ostree", "--repo=\(harness.repo.path)", "show", commit, "--print-detached-metadata-key=treeforge.rpmdb.pkglist"])
        #expect((inCommit.status == 0) == (mode == "inline"))
        #expect((detached.status == 0) == (mode == "detached"))
        if mode == "detached" { #expect(detached.stdout.contains("fixture-newtool")) }
    }

    @Test func fromScratchDeltasByRepositorySetting() throws {
        let harness = try ComposeHarness("scratch-setting")
        let treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
        try Oracle.ostree(harness.repo, ["config", "set", "treeforge.static-delta-from-scratch", "true"])
        let second = try harness.composeOK(treefile, ["--force-nocache"])
        let deltas = try Oracle.ostree(harness.repo, ["static-delta", "list"]).split(separator: "\n").map(String.init)
        #expect(deltas.contains(second), "a from-scratch delta is named by its target alone")
    }
}

/// `compose install` then `compose commit` build the same tree as `compose tree`.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ComposeStepsTests {
    @Test func installThenCommitMatchesComposeTree() throws {
        let environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        let whole = try ComposeHarness("steps")
        let treefile = try whole.treefile(Fixtures.defaultRequest)
        #expect(try whole.compose(treefile, environment: environment).status == 0)

        let steps = try ComposeHarness("steps")
        let destination = steps.dir.path("dest")
        let install = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "install", treefile.path, destination.path],
                                      environment: environment)
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("Installed 8 packages"))
        let commit = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "commit", treefile.path,
                                      destination.appendingPathComponent("rootfs").path, "--repo", steps.repo.path],
                                     environment: environment)
        #expect(commit.status == 0, "\(commit.stderr)")

        func contentChecksum(_ harness: ComposeHarness) throws -> String? {
            try Oracle.ostree(harness.repo, ["show", harness.ref]).split(separator: "\n")
                .first { $0.hasPrefix("ContentChecksum:") }.map(String.init)
        }
        #expect(try contentChecksum(whole) != nil)
        #expect(try contentChecksum(whole) == contentChecksum(steps))
        let row = try steps.lastBuild()
        #expect(row.status == "succeeded")
        #expect(row.packages.contains("fixture-app-1.0-1.noarch"))
    }

    /// mutate-os-release in `compose install` writes the version the commit
    /// then gets: counted from `--repo`'s head, read back by `compose commit`.
    @Test func theVersionInOSReleaseIsTheCommits() throws {
        let harness = try ComposeHarness("steps-version")
        let treefile = try harness.treefile(["fixture-os", "fixture-sh"], extra: "mutate-os-release: \"40\"\nautomatic-version-prefix: \"40\"\n")
        try harness.composeOK(treefile)
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/lib/os-release"]).contains("OSTREE_VERSION='40'"))
        let destination = harness.dir.path("dest")
        try Command.check([Fixtures.treeforgeExecutable.path, "compose", "install", treefile.path, destination.path, "--repo", harness.repo.path])
        let osRelease = try String(contentsOf: destination.appendingPathComponent("rootfs/usr/lib/os-release"), encoding: .utf8)
        #expect(osRelease.contains("OSTREE_VERSION='40.1'"), "counted from the repository's head: \(osRelease)")
        try Command.check([Fixtures.treeforgeExecutable.path, "compose", "commit", treefile.path,
                           destination.appendingPathComponent("rootfs").path, "--repo", harness.repo.path])
        let log = try Oracle.ostree(harness.repo, ["log", harness.ref])
        #expect(log.split(separator: "\n").first { $0.hasPrefix("Version: ") } == "Version: 40.1", "\(log)")
    }

    @Test func commitOfAFolderWithoutAnRpmdb() throws {
        let harness = try ComposeHarness("steps-bad")
        let empty = harness.dir.path("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let result = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "commit",
                                      try harness.treefile(["fixture-app"]).path, empty.path, "--repo", harness.repo.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no rpm database"))
    }
}
