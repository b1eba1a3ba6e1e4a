import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// `compose tree --progress=json`: stdout is the event stream and nothing
/// else, one JSON object a line, in the order the compose ran, the outcome
/// last. What the server will read from its compose processes.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ProgressJSONTests {
    @Test func aComposeStreamsItsEventsInPipelineOrder() throws {
        let harness = try ComposeHarness("json")
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        let result = try harness.compose(treefile, ["--progress", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains(" done in "), "progress goes to stdout only: \(result.stderr)")
        let stream = try EventStream(result.stdout)
        let events = stream.events

        // Each stage starts and finishes before the next starts, in pipeline order;
        // each pipeline stage's id is on its finish.
        #expect(stream.stageEvents.map(\.description) == Stage.allCases.flatMap { ["started \($0)", "finished \($0)"] })
        for (stage, id) in stream.stageIDs {
            let isPipelineStage = stage != .lock && stage != .record
            #expect((id?.count == 64) == isPipelineStage, "\(stage): \(id ?? "no id")")
        }

        // buildStarted once, right after the load, naming the build row.
        let announced = events.indices.filter { if case .buildStarted = events[$0] { return true } else { return false } }
        #expect(announced.count == 1)
        let loadFinished = try #require(events.firstIndex { if case .stageFinished(.load, _, _) = $0 { return true } else { return false } })
        #expect(announced.first == loadFinished + 1)
        let composeID = try harness.buildColumns(1, ["composeId"])[0]
        #expect(events[loadFinished + 1] == .buildStarted(build: 1, composeID: composeID, ref: harness.ref, treefile: treefile.standardizedFileURL.path))

        // Inside the install: every package once, counted 1…8, and each
        // scriptlet's start followed by its finish.
        let install = try #require(stream.span(of: .install))
        let packages = events[install].compactMap { event -> (Int, Int, String)? in
            if case .package(let index, let total, let nevra) = event { return (index, total, nevra) } else { return nil }
        }
        #expect(packages.map(\.0) == Array(1...8))
        #expect(packages.allSatisfy { $0.1 == 8 })
        #expect(packages.map(\.2).sorted() == Fixtures.defaultSet)
        #expect(events.filter { if case .package = $0 { return true } else { return false } }.count == 8, "a package outside the install")
        let scriptlets = events[install].filter {
            switch $0 {
            case .scriptletStarted, .scriptletFinished: true
            default: false
            }
        }
        // fixture-app's %pre and %post (sh) and fixture-lib's %post (lua), none printing anything.
        let expected: [ComposeEvent] = [
            .scriptletStarted(package: "fixture-app-1.0-1.noarch", scriptlet: "%pre"),
            .scriptletFinished(package: "fixture-app-1.0-1.noarch", scriptlet: "%pre", output: []),
            .scriptletStarted(package: "fixture-app-1.0-1.noarch", scriptlet: "%post"),
            .scriptletFinished(package: "fixture-app-1.0-1.noarch", scriptlet: "%post", output: []),
            .scriptletStarted(package: "fixture-lib-2.0-1.noarch", scriptlet: "%post"),
            .scriptletFinished(package: "fixture-lib-2.0-1.noarch", scriptlet: "%post", output: []),
        ]
        // In librpm's order, which the test does not fix.
        #expect(scriptlets.map { "\($0)" }.sorted() == expected.map { "\($0)" }.sorted(), "\(scriptlets)")
        for pair in stride(from: 0, to: scriptlets.count, by: 2) where pair + 1 < scriptlets.count {
            guard case .scriptletStarted(let package, let scriptlet) = scriptlets[pair] else {
                Issue.record("a scriptlet finished before it started: \(scriptlets)")
                break
            }
            #expect(scriptlets[pair + 1] == .scriptletFinished(package: package, scriptlet: scriptlet, output: []))
        }

        // The outcome last: the commit ostree has on the ref, its version.
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        let version = try harness.history().first?.version
        #expect(events.last == .outcome(ComposeResult(status: .committed, build: 1, ref: harness.ref, commit: head, version: version,
                                                      parent: nil, exitStatus: 0)))
        #expect(events.dropLast().allSatisfy { if case .outcome = $0 { return false } else { return true } })
    }

    /// A failing scriptlet: its output is on its event, then the error, then
    /// the outcome `failed`.
    @Test func aFailingComposeEndsWithTheErrorThenTheOutcome() throws {
        let harness = try ComposeHarness("json-failed")
        let result = try harness.compose(try harness.treefile(["fixture-failing-scriptlet"]), ["--progress", "json"])
        #expect(result.status == 1)
        let events = try EventStream(result.stdout).events
        let package = "fixture-failing-scriptlet-1.0-1.noarch"
        let finished = events.compactMap { event -> [String]? in
            if case .scriptletFinished(package, "%post", let output) = event { return output } else { return nil }
        }
        #expect(finished == [["fixture-failing-scriptlet: %post failing on purpose"]], "\(events)")
        #expect(events.count >= 2)
        guard events.count >= 2, case .error(let error) = events[events.count - 2] else {
            Issue.record("no error before the outcome: \(events)")
            return
        }
        #expect(error.stage == .install && error.subject == package && error.message == "the %post scriptlet failed (exit status 3)", "\(error)")
        #expect(events.last == .outcome(ComposeResult(status: .failed, build: 1, ref: harness.ref, exitStatus: 1)))
        #expect(!events.contains { if case .stageFinished(.install, _, _) = $0 { return true } else { return false } })
    }

    /// Inputs equal to the head's: the plan and the lock, then `unchanged`
    /// with the head (exit status 3).
    @Test func anUnchangedComposeEndsWithTheOutcomeUnchanged() throws {
        let harness = try ComposeHarness("json-unchanged")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let head = try harness.composeOK(treefile)
        let result = try harness.compose(treefile, ["--progress", "json"])
        #expect(result.status == 3, "\(result.stderr)")
        let stream = try EventStream(result.stdout)
        #expect(stream.stageEvents.map(\.description) == [Stage.load, .resolve, .lock].flatMap { ["started \($0)", "finished \($0)"] })
        #expect(stream.events.last == .outcome(ComposeResult(status: .unchanged, build: 2, ref: harness.ref, commit: head, exitStatus: 3)))
    }
}

/// `--progress json`'s stdout, read twice: as plain JSON (what any reader
/// sees, checked field by field) and through TreeforgeCore's decoder.
struct EventStream {
    let events: [ComposeEvent]

    init(_ stdout: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        // Whole lines only, and nothing but them.
        #expect(stdout.hasSuffix("}\n"), "\(stdout.suffix(200))", sourceLocation: sourceLocation)
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let types: Set<String> = ["buildStarted", "stageStarted", "stageFinished", "package", "scriptletStarted", "scriptletFinished",
                                  "waiting", "publishResumed", "warning", "error", "outcome"]
        var events: [ComposeEvent] = []
        var previousTime = Date.distantPast
        for (index, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "line \(index): \(line)",
                                      sourceLocation: sourceLocation)
            #expect(object["schema"] as? Int == 1, "\(line)", sourceLocation: sourceLocation)
            #expect(object["seq"] as? Int == index, "\(line)", sourceLocation: sourceLocation)
            #expect(types.contains(object["type"] as? String ?? ""), "\(line)", sourceLocation: sourceLocation)
            let time = try #require((object["time"] as? String).flatMap(Self.parseTime), "\(line)", sourceLocation: sourceLocation)
            #expect(time >= previousTime, "times go forward: \(line)", sourceLocation: sourceLocation)
            previousTime = time
            let decoded = try ComposeEventLine.decoder().decode(ComposeEventLine.self, from: Data(line.utf8))
            #expect(decoded.seq == index && decoded.schema == ComposeEventLine.schema, sourceLocation: sourceLocation)
            events.append(decoded.event)
        }
        self.events = events
    }

    private static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    struct StageEvent: CustomStringConvertible {
        let started: Bool
        let stage: Stage
        var description: String { "\(started ? "started" : "finished") \(stage)" }
    }

    var stageEvents: [StageEvent] {
        events.compactMap {
            switch $0 {
            case .stageStarted(let stage): StageEvent(started: true, stage: stage)
            case .stageFinished(let stage, _, _): StageEvent(started: false, stage: stage)
            default: nil
            }
        }
    }

    /// Each finished stage's id.
    var stageIDs: [(Stage, String?)] {
        events.compactMap { if case .stageFinished(let stage, _, let id) = $0 { return (stage, id) } else { return nil } }
    }

    /// The events between a stage's start and its finish.
    func span(of stage: Stage) -> Range<Int>? {
        guard let start = events.firstIndex(of: .stageStarted(stage)),
              let end = events.firstIndex(where: { if case .stageFinished(stage, _, _) = $0 { return true } else { return false } }),
              start < end else { return nil }
        return (start + 1)..<end
    }
}
