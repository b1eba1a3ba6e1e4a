import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// Each stage's id is a content hash of what it worked from, chained from
/// the stage before (osbuild's stage ids): equal inputs give equal ids, a
/// changed input changes the id of the stage that reads it and of every
/// later one. Build rows keep them in `stageInputs`.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct StageIDTests {
    static let pipeline = ["load", "resolve", "download", "install", "postprocess", "commit", "publish"]
    /// The stages whose ids depend on the tree's inputs only; the commit's
    /// and the publish's also on the parent commit.
    static let treeStages = ["load", "resolve", "download", "install", "postprocess"]

    @Test func equalInputsGiveEqualIdsAndAChangedInputChangesThem() throws {
        let harness = try ComposeHarness("stage-ids")
        let environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        func compose(_ treefile: URL, _ extra: [String] = []) throws -> [String: String] {
            let result = try harness.compose(treefile, ["--force-nocache", "--progress", "json"] + extra, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let id = try harness.buildRows().last!.id
            let ids = try stageInputs(harness, build: id)
            // Every pipeline stage has an id, the one its finish event reported.
            #expect(ids.keys.sorted() == Self.pipeline.sorted(), "\(ids)")
            #expect(ids.values.allSatisfy { $0.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil }, "\(ids)")
            for event in try EventStream(result.stdout).events {
                if case .stageFinished(let stage, _, let inputHash?) = event { #expect(ids[stage.rawValue] == inputHash, "\(stage)") }
            }
            return ids
        }
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try compose(treefile)
        // The same inputs again, now with a previous commit on the ref.
        let again = try compose(treefile)
        for stage in Self.treeStages {
            #expect(again[stage] == first[stage], "\(stage)")
        }
        #expect(again["commit"] != first["commit"], "the parent commit differs")

        // One more package: the treefile, so every stage, differs.
        let more = try compose(try harness.treefile(["fixture-oldtool", "fixture-mta"], in: "more"))
        for stage in Self.pipeline {
            #expect(more[stage] != again[stage], "\(stage)")
        }

        // The same treefile with the repository excluding a package: the load
        // is the same, the resolve (another package set) and all after it not.
        _ = try harness.treefile(["fixture-oldtool"], repoOptions: "gpgcheck=0\nexcludepkgs=fixture-newtool")
        let excluded = try compose(treefile)
        #expect(try harness.lastBuild().packages == #"["fixture-oldtool-1.0-1.noarch"]"#)
        #expect(excluded["load"] == again["load"])
        for stage in Self.pipeline.dropFirst() {
            #expect(excluded[stage] != again[stage], "\(stage)")
        }
    }

    /// With `mutate-os-release` each compose's version is written into the
    /// tree, so the postprocess ids of two composes differ; the install's do not.
    @Test func theVersionCountsWhereMutateOSReleaseWritesIt() throws {
        let harness = try ComposeHarness("stage-ids-version")
        let treefile = try harness.treefile(["fixture-os", "fixture-sh"], extra: "mutate-os-release: \"40\"\nautomatic-version-prefix: \"40\"\n")
        var ids: [[String: String]] = []
        for _ in 0..<2 {
            let result = try harness.compose(treefile, ["--force-nocache"], environment: ["SOURCE_DATE_EPOCH": "1700000000"])
            #expect(result.status == 0, "\(result.stderr)")
            ids.append(try stageInputs(harness, build: try harness.buildRows().last!.id))
        }
        #expect(try harness.history().map(\.version) == ["40.1", "40"])
        #expect(ids[0]["install"] != nil && ids[0]["install"] == ids[1]["install"])
        #expect(ids[0]["postprocess"] != ids[1]["postprocess"])
    }

    /// The `stageInputs` JSON column of a build row.
    private func stageInputs(_ harness: ComposeHarness, build: Int) throws -> [String: String] {
        let text = try harness.buildColumns(build, ["stageInputs"])[0]
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String], "\(text)")
    }
}
