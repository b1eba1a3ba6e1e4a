import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The job engine's values alone: the event lines, cancellation, the ref
/// locks, fault points, the request.
@Suite struct ComposeEventLineTests {
    static let every: [ComposeEvent] = [
        .buildStarted(build: 7, composeID: "os-1-20261201.0", ref: "os/x86_64/base", treefile: "/t/tree.yaml"),
        .stageStarted(.install),
        .stageFinished(.install, seconds: 1.25, inputHash: "ab12"),
        .stageFinished(.lock, seconds: 0, inputHash: nil),
        .package(index: 3, total: 17, nevra: "bash-5.2-1.x86_64"),
        .scriptletStarted(package: "bash-5.2-1.x86_64", scriptlet: "%post"),
        .scriptletFinished(package: "bash-5.2-1.x86_64", scriptlet: "%post", output: ["one", "", "three \"quoted\""]),
        .waiting(ref: "os/x86_64/base", holder: "build #6 (pid 42)"),
        .publishResumed(ref: "os/x86_64/base", commit: "c0ffee", build: 6, missing: ["no summary"]),
        .warning("units: no unit file x.service"),
        .error(ComposeError(.resolve, subject: "repo base", "cannot read repomd.xml", details: ["line 1"])),
        .outcome(ComposeResult(status: .committed, build: 7, ref: "os/x86_64/base", commit: "c0ffee", version: "1.0",
                               parent: "beef", exitStatus: 0)),
        .outcome(ComposeResult(status: .failed, exitStatus: 1)),
    ]

    @Test func everyEventRoundTripsAsOneLine() throws {
        let encoder = ComposeEventLine.encoder()
        let decoder = ComposeEventLine.decoder()
        for (seq, event) in Self.every.enumerated() {
            let line = ComposeEventLine(seq: seq, time: Date(timeIntervalSince1970: 1_796_000_000.125), event: event)
            let data = try encoder.encode(line)
            #expect(!data.contains(0x0a), "one line")
            let decoded = try decoder.decode(ComposeEventLine.self, from: data)
            #expect(decoded == line)
            // A reader that knows nothing of Swift sees a flat object.
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["schema"] as? Int == 1 && object["seq"] as? Int == seq)
            #expect(object["time"] as? String == "2026-11-30T00:53:20.125Z")
            #expect(object["type"] as? String == event.type, "the type the server files the line under")
        }
    }

    @Test func theFieldsAreTheDocumentedOnes() throws {
        let data = try ComposeEventLine.encoder().encode(ComposeEventLine(seq: 0, event: Self.every[2]))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["schema", "seq", "time", "type", "stage", "seconds", "inputHash"])
        #expect(object["type"] as? String == "stageFinished" && object["stage"] as? String == "install")
    }

    @Test func aLineOfAnotherShapeIsRefused() {
        let decoder = ComposeEventLine.decoder()
        #expect(throws: DecodingError.self) {
            try decoder.decode(ComposeEventLine.self, from: Data(#"{"schema":1,"seq":0,"time":"2026-12-01T00:00:00Z","type":"teleported"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(ComposeEventLine.self, from: Data(#"{"schema":1,"seq":0,"time":"yesterday","type":"warning","message":"m"}"#.utf8))
        }
    }
}

@Suite struct CancellationTests {
    @Test func handlersRunOnceAndLateOnesAtOnce() throws {
        let cancellation = Cancellation()
        let count = Counter()
        let registration = cancellation.onCancel { _ = count.next() }
        let ended = cancellation.onCancel { _ = count.next() }
        ended.end()
        #expect(throws: Never.self) { try cancellation.check(.install) }
        cancellation.cancel(reason: "SIGTERM", signal: SIGTERM)
        cancellation.cancel(reason: "again")
        #expect(count.next() == 2, "one handler ran, once; the ended one never")
        #expect(cancellation.reason == "SIGTERM" && cancellation.signal == SIGTERM)
        let late = cancellation.onCancel { _ = count.next() }
        #expect(count.next() == 4, "a handler registered after the cancel runs at once")
        let error = try #require(throws: ComposeCancelled.self) { try cancellation.check(.commit) }
        #expect(error.stage == .commit && error.exitStatus == 143)
        #expect(Cancellation().cancelled(in: .load).exitStatus == ComposeResult.cancelledExitStatus)
        _ = (registration, late)
    }
}

@Suite struct RepositoryLockTests {
    @Test func aSecondHolderWaitsOrIsToldWho() throws {
        let dir = try TemporaryDirectory("locks")
        let repo = dir.path("repo")
        let first = RepositoryLock.ref("os/x86_64/base", in: repo)
        try first.acquire(as: .init(build: 12), wait: false, stage: .lock)
        #expect(first.file.lastPathComponent == "ref-os%2Fx86_64%2Fbase.lock")

        let second = RepositoryLock.ref("os/x86_64/base", in: repo)
        let refused = try #require(throws: ComposeError.self) { try second.acquire(as: .init(build: 13), wait: false, stage: .lock) }
        #expect(refused.stage == .lock && refused.subject == "ref os/x86_64/base")
        #expect(refused.message.contains("build #12 (pid \(getpid()))") && refused.message.contains("--no-wait"), "\(refused)")

        // Another ref, and the summary, are not held by it.
        try RepositoryLock.ref("os/x86_64/other", in: repo).withLock(as: .init(build: 13), stage: .lock) {}
        try RepositoryLock.summary(in: repo).withLock(as: .init(build: 13), stage: .publish) {}

        // A waiter is told once, and stops when cancelled.
        let cancellation = Cancellation()
        var told: [RepositoryLock.Holder?] = []
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel(reason: "test") }
        #expect(throws: ComposeCancelled.self) {
            try second.acquire(as: .init(build: 13), wait: true, stage: .lock, cancellation: cancellation) { told.append($0) }
        }
        #expect(told.count == 1 && told.first??.build == 12)

        first.release()
        try second.acquire(as: .init(build: 13), wait: false, stage: .lock)
        second.release()
    }
}

@Suite struct FaultInjectionTests {
    @Test func pointsAreStagesWithAnOptionalStep() {
        let faults = FaultInjection(killAt: "commit:25", pauseAt: "install")
        #expect(faults.kill == .init(stage: .commit, step: 25))
        #expect(faults.pause == .init(stage: .install, step: nil))
        #expect(faults.watches(.commit) && !faults.watches(.install) && !faults.watches(.publish))
        #expect(FaultInjection(killAt: "nonsense:3").kill == nil)
        #expect(FaultInjection(killAt: nil).kill == nil && FaultInjection.none.pause == nil)
    }
}

@Suite struct ComposeRequestTests {
    @Test func aRequestIsAValueThatTravels() throws {
        var request = ComposeRequest(treefile: "/t/tree.yaml")
        request.variables = ["edition": .string("server"), "count": .uint(3), "nested": .object([("a", .array([.bool(true), .null]))])]
        request.parent = .commit("abc")
        request.lockfiles = ["/t/lock.json"]
        request.force = true
        request.outputs.commitID = "/tmp/id"
        let data = try JSONEncoder().encode(request)
        let decoded = try JSONDecoder().decode(ComposeRequest.self, from: data)
        #expect(decoded == request)
        #expect(Set([request, decoded]).count == 1)
        var other = request
        other.version = "2.0"
        #expect(other != request)
    }

    @Test func stageIDsChainTheirInputs() {
        let load = StageID.compute(.load, previous: nil, identity: ["sha256 x"])
        #expect(load == StageID.compute(.load, previous: nil, identity: ["sha256 x"]))
        #expect(load != StageID.compute(.load, previous: nil, identity: ["sha256 y"]))
        let resolve = StageID.compute(.resolve, previous: load, identity: ["repo a"])
        #expect(resolve != StageID.compute(.resolve, previous: StageID.compute(.load, previous: nil, identity: ["sha256 y"]), identity: ["repo a"]),
                "a change upstream changes every later id")
    }
}

@Suite struct ProcessIdentityTests {
    @Test func aPidNamesTheProcessItWasRecordedFor() throws {
        let mine = try #require(ProcessIdentity.of(getpid()))
        #expect(ProcessIdentity.of(getpid()) == mine, "stable for one process")
        #expect(ProcessIdentity.isAlive(pid: getpid(), identity: mine))
        // The same pid, recorded for a process that started at another time: a reused pid.
        let colon = try #require(mine.lastIndex(of: ":"))
        #expect(!ProcessIdentity.isAlive(pid: getpid(), identity: mine[..<colon] + ":1"))
        #expect(!ProcessIdentity.isAlive(pid: nil, identity: mine))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        #expect(ProcessIdentity.of(child.processIdentifier) == nil, "a process that ended has none")
    }

    @Test func aStartedBuildRecordsItsProcess() throws {
        let store = try BuildStore()
        let id = try store.start(treefilePath: "/t.yaml")
        #expect(try store.build(id)?.process == ProcessIdentity.of(getpid()))
        let queued = try store.enqueue(treefilePath: "/t.yaml", trigger: "server")
        #expect(try store.build(queued)?.process == nil)
        try store.adopt(queued)
        #expect(try store.build(queued)?.process == ProcessIdentity.of(getpid()))
    }
}
