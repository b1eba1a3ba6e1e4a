import Foundation
import Testing
import TestSupport

/// `gpgcheck=1`: each package from such a repository must carry a valid
/// signature by one of that repository's `gpgkey=` keys. Fixture RPMs are
/// signed at test time with throwaway keys (`rpmsign --addsign`) and indexed
/// with createrepo_c; `fixture-oldtool` resolves to fixture-newtool alone,
/// so each repository holds one or two packages.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct SignatureCheckTests {
    let harness: ComposeHarness
    let key: ThrowawayGPGKey

    init() throws {
        harness = try ComposeHarness("signatures")
        key = try ThrowawayGPGKey()
    }

    /// A repository of copies of fixture RPMs, each signed by the given key
    /// (or left unsigned), with the public key beside it as `public.asc`.
    func repository(_ name: String, _ packages: [(file: String, signer: ThrowawayGPGKey?)]) throws -> URL {
        let folder = harness.dir.path(name)
        let packagesFolder = folder.appendingPathComponent("Packages")
        try FileManager.default.createDirectory(at: packagesFolder, withIntermediateDirectories: true)
        let fixtures = try Fixtures.repository().appendingPathComponent("Packages")
        for (file, signer) in packages {
            let copy = packagesFolder.appendingPathComponent(file)
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(file), to: copy)
            try signer?.signRPMs([copy])
        }
        try FileManager.default.copyItem(at: key.publicKey, to: folder.appendingPathComponent("public.asc"))
        try Command.check(["createrepo_c", "-q", folder.path])
        return folder
    }

    static let newtool = "fixture-newtool-2.0-1.noarch.rpm"

    @Test func signedPackagesInstallWithTheRepositorysKeyOnly() throws {
        let repo = try repository("signed", [(Self.newtool, key)])
        let treefile = try harness.treefile(["fixture-oldtool"], repository: repo,
                                            repoOptions: "gpgcheck=1\ngpgkey=file://\(repo.path)/public.asc")
        try harness.composeOK(treefile)
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        // The key was used in memory: no gpg-pubkey package in the tree's rpmdb.
        #expect(try Oracle.rpmQueryAll(root: checkout) == ["fixture-newtool-2.0-1.noarch"])
        let signature = try Command.check(["rpm", "--root", checkout.path, "--dbpath", "/usr/lib/sysimage/rpm", "-q",
                                           "--qf", "%{DSAHEADER:pgpsig}", "fixture-newtool"])
        #expect(signature.contains("Key ID \(key.longKeyID)"), "installed header: \(signature)")
    }

    @Test func aKeyPathRelativeToTheRepoFileAndAnHTTPKeyWork() throws {
        let repo = try repository("signed", [(Self.newtool, key)])
        let relative = try harness.treefile(["fixture-oldtool"], repository: repo, repoOptions: "gpgcheck=1\ngpgkey=keys/public.asc")
        let keys = relative.deletingLastPathComponent().appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: key.publicKey, to: keys.appendingPathComponent("public.asc"))
        try harness.composeOK(relative, ["--force-nocache"])

        let server = try StaticHTTPServer(serving: repo)
        defer { server.stop() }
        let remote = try harness.treefile(["fixture-oldtool"], repository: repo,
                                          repoOptions: "gpgcheck=1\ngpgkey=\(server.url.absoluteString)public.asc", in: "remote-key")
        try harness.composeOK(remote, ["--force-nocache", "--cachedir", harness.dir.path("cache").path])
    }

    @Test func turningSignatureChecksOnIsAChange() throws {
        let repo = try repository("unsigned", [(Self.newtool, nil)])
        try harness.composeOK(try harness.treefile(["fixture-oldtool"], repository: repo))
        #expect(try harness.compose(try harness.treefile(["fixture-oldtool"], repository: repo)).status == 3, "same inputs: unchanged")
        // Same packages, now with gpgcheck: the checks must run, and refuse the unsigned package.
        try harness.expectFailure(try harness.treefile(["fixture-oldtool"], repository: repo,
                                                       repoOptions: "gpgcheck=1\ngpgkey=file://\(repo.path)/public.asc"),
                                  stage: "install", mentions: ["fixture-newtool-2.0-1.noarch", "not signed"])
    }

    @Test func anUnsignedPackageIsRefused() throws {
        let goodRepo = try repository("signed", [(Self.newtool, key)])
        try harness.composeOK(try harness.treefile(["fixture-oldtool"], repository: goodRepo,
                                                   repoOptions: "gpgcheck=1\ngpgkey=file://\(goodRepo.path)/public.asc", in: "good"))
        let repo = try repository("mixed", [(Self.newtool, key), ("fixture-editor-b-1.0-1.noarch.rpm", nil)])
        let treefile = try harness.treefile(["fixture-oldtool", "fixture-editor-b"], repository: repo,
                                            repoOptions: "gpgcheck=1\ngpgkey=file://\(repo.path)/public.asc")
        try harness.expectFailure(treefile, stage: "install",
                                  mentions: ["fixture-editor-b-1.0-1.noarch", "repo fixtures", "not signed"])
    }

    @Test func aPackageSignedByAnotherKeyIsRefusedNamingTheKey() throws {
        let goodRepo = try repository("signed", [(Self.newtool, key)])
        try harness.composeOK(try harness.treefile(["fixture-oldtool"], repository: goodRepo,
                                                   repoOptions: "gpgcheck=1\ngpgkey=file://\(goodRepo.path)/public.asc", in: "good"))
        let stranger = try ThrowawayGPGKey()
        let repo = try repository("stranger", [(Self.newtool, key), ("fixture-editor-b-1.0-1.noarch.rpm", stranger)])
        let treefile = try harness.treefile(["fixture-oldtool", "fixture-editor-b"], repository: repo,
                                            repoOptions: "gpgcheck=1\ngpgkey=file://\(repo.path)/public.asc")
        try harness.expectFailure(treefile, stage: "install",
                                  mentions: ["fixture-editor-b-1.0-1.noarch", "repo fixtures", "signed with key \(stranger.longKeyID)",
                                             "not among the keys", key.longKeyID])
    }

    @Test func aDamagedSignatureIsRefused() throws {
        let repo = try repository("damaged", [(Self.newtool, key)])
        try ThrowawayGPGKey.damageSignature(of: repo.appendingPathComponent("Packages/\(Self.newtool)"))
        try Command.check(["createrepo_c", "-q", repo.path])
        let treefile = try harness.treefile(["fixture-oldtool"], repository: repo,
                                            repoOptions: "gpgcheck=1\ngpgkey=file://\(repo.path)/public.asc")
        try harness.expectFailure(treefile, stage: "install",
                                  mentions: ["fixture-newtool-2.0-1.noarch", "repo fixtures", "does not verify", "Signature", "BAD"])
    }

    @Test func aMissingKeyFileIsNamed() throws {
        let repo = try repository("signed", [(Self.newtool, key)])
        let treefile = try harness.treefile(["fixture-oldtool"], repository: repo,
                                            repoOptions: "gpgcheck=1\ngpgkey=file://\(repo.path)/absent.asc")
        try harness.expectFailure(treefile, stage: "install",
                                  mentions: ["fixture-newtool-2.0-1.noarch", "repo fixtures", "\(repo.path)/absent.asc does not exist"])
    }

    @Test func gpgcheckWithoutAKeyIsAnErrorNamingTheRepository() throws {
        let repo = try repository("signed", [(Self.newtool, key)])
        let treefile = try harness.treefile(["fixture-oldtool"], repository: repo, repoOptions: "gpgcheck=1")
        try harness.expectFailure(treefile, stage: "install", mentions: ["repo fixtures", "names no key", "gpgkey="])
    }
}
