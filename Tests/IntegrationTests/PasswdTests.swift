import Foundation
import Testing
import TestSupport

/// Users and groups across composes: fixture-user-a's %pre adds user fxa with
/// the next free id from 900; version 2.0 needs fixture-user-b (fxb) first,
/// so without preserve-passwd fxb takes 900 and fxa drifts to 901.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct PasswdTests {
    func users(_ harness: ComposeHarness) throws -> String {
        try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/lib/passwd"])
    }

    func groups(_ harness: ComposeHarness) throws -> String {
        try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/lib/group"])
    }

    /// The first compose: fxa gets 900.
    func composeVersionOne(_ harness: ComposeHarness) throws {
        try harness.composeOK(try harness.treefile(["fixture-user-a-1.0-1"], in: "one"))
        #expect(try users(harness).contains("fxa:x:900:900:"))
    }

    @Test func preservePasswdKeepsIDsStable() throws {
        let harness = try ComposeHarness("passwd-preserve")
        try composeVersionOne(harness)
        let second = try harness.composeOK(try harness.treefile(["fixture-user-a"], in: "two"))
        #expect(try Oracle.ostree(harness.repo, ["ls", second, "/usr/share/fixture-user-b"]).contains("fixture-user-b"))
        let passwd = try users(harness)
        #expect(passwd.contains("fxa:x:900:900:"), "\(passwd)")
        #expect(passwd.contains("fxb:x:901:901:"), "\(passwd)")
        #expect(try groups(harness).contains("fxa:x:900:\n"))
        #expect(try Oracle.ostree(harness.repo, ["ls", harness.ref, "/usr/share/fixture-user-a/owned"]).hasPrefix("-00640 900 900"))
    }

    @Test func withoutPreservePasswdIDsDrift() throws {
        let harness = try ComposeHarness("passwd-drift")
        try composeVersionOne(harness)
        try harness.composeOK(try harness.treefile(["fixture-user-a"], extra: """
            preserve-passwd: false
            check-passwd: {type: none}
            check-groups: {type: none}

            """, in: "two"))
        let passwd = try users(harness)
        #expect(passwd.contains("fxb:x:900:900:"), "\(passwd)")
        #expect(passwd.contains("fxa:x:901:901:"), "\(passwd)")
    }

    @Test func aChangedIDFailsTheComposeNamingTheEntries() throws {
        let harness = try ComposeHarness("passwd-check")
        try composeVersionOne(harness)
        try harness.expectFailure(try harness.treefile(["fixture-user-a"], extra: "preserve-passwd: false\n", in: "two"),
                                  stage: "postprocess",
                                  mentions: ["users or groups changed", "passwd UID changed: fxa (900 to 901)", "group GID changed: fxa (900 to 901)"])
    }

    @Test func checkDataNamesTheExpectedIDs() throws {
        let harness = try ComposeHarness("passwd-data")
        try harness.expectFailure(try harness.treefile(["fixture-user-a-1.0-1"], extra: """
            check-passwd: {type: data, entries: {fxa: 905, bin: 1}}
            check-groups: {type: data, entries: {fxa: 900}}

            """), stage: "postprocess", mentions: ["treefile.yaml:", "passwd UID changed: fxa (905 to 900)"])
        #expect(try harness.lastBuild().error.contains("GID") == false, "the matching group is no violation")
    }

    @Test func checkFilesSeedTheUsersAndGroups() throws {
        let harness = try ComposeHarness("passwd-file")
        try harness.dir.write("tf/passwd", "root:x:0:0:root:/root:/bin/sh\nfxa:x:950:950:fixture fxa:/var/lib/fixture-user-a:/sbin/nologin\n")
        try harness.dir.write("tf/group", "root:x:0:\nfxa:x:950:\n")
        try harness.composeOK(try harness.treefile(["fixture-user-a-1.0-1"], extra: """
            check-passwd: {type: file, filename: passwd}
            check-groups: {type: file, filename: group}

            """))
        #expect(try users(harness).contains("fxa:x:950:950:"))
        #expect(try Oracle.ostree(harness.repo, ["ls", harness.ref, "/usr/share/fixture-user-a/owned"]).hasPrefix("-00640 950 950"))
        // The seed brings shadow entries for the seeded users: locked, as shadow-utils writes system users.
        let shadow = try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/etc/shadow"])
        #expect(shadow.contains("fxa:*::0:99999:7:::"))

        // The files' bytes are inputs: unchanged, nothing to do; changed, a new tree.
        let treefile = harness.dir.path("tf/treefile.yaml")
        #expect(try harness.compose(treefile).status == 3)
        try harness.dir.write("tf/passwd", "root:x:0:0:root:/root:/bin/sh\nfxa:x:951:950:fixture fxa:/var/lib/fixture-user-a:/sbin/nologin\n")
        try harness.composeOK(treefile)
        #expect(try users(harness).contains("fxa:x:951:950:"))
    }

    @Test func aRemovedUserWhoseIDStillOwnsFiles() throws {
        let harness = try ComposeHarness("passwd-removed")
        try composeVersionOne(harness)
        // fxb takes 900, so /usr/share/fixture-user-b/owned belongs to fxa's old uid.
        let treefile = try harness.treefile(["fixture-user-b"], extra: "preserve-passwd: false\nignore-removed-groups: ['*']\n", in: "two")
        try harness.expectFailure(treefile, stage: "postprocess",
                                  mentions: ["user fxa (uid 900) is missing from the tree's passwd files, but files in the tree are owned by it"])
        let ignored = try harness.treefile(["fixture-user-b"], extra: """
            preserve-passwd: false
            ignore-removed-groups: ['*']
            ignore-removed-users: [fxa]

            """, in: "three")
        try harness.composeOK(ignored)
        #expect(try users(harness).contains("fxb:x:900:900:"))
    }

    /// `compose install --repo` seeds from that repository's ref head;
    /// `compose commit` checks against it.
    @Test func installAndCommitStepsPreserveAndCheck() throws {
        let harness = try ComposeHarness("passwd-steps")
        try composeVersionOne(harness)
        let treefile = try harness.treefile(["fixture-user-a"], in: "two")
        func install(_ destination: URL, _ extra: [String]) throws -> URL {
            let result = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "install", treefile.path, destination.path] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return destination.appendingPathComponent("rootfs")
        }
        func commit(_ root: URL) throws -> Command.Result {
            try Command.run([Fixtures.treeforgeExecutable.path, "compose", "commit", treefile.path, root.path, "--repo", harness.repo.path])
        }
        let seeded = try install(harness.dir.path("seeded"), ["--repo", harness.repo.path])
        #expect(try String(contentsOf: seeded.appendingPathComponent("usr/lib/passwd"), encoding: .utf8).contains("fxa:x:900:900:"))
        // Without the repository there is nothing to seed from: fxa drifts, and the commit step refuses it.
        let drifted = try install(harness.dir.path("drifted"), [])
        #expect(try String(contentsOf: drifted.appendingPathComponent("usr/lib/passwd"), encoding: .utf8).contains("fxa:x:901:901:"))
        let head = try Oracle.ostreeRev(harness.repo, harness.ref)
        let refused = try commit(drifted)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("passwd UID changed: fxa (900 to 901)"), "\(refused.stderr)")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head)
        let accepted = try commit(seeded)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try users(harness).contains("fxa:x:900:900:"))
    }
}
