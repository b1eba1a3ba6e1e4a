import Foundation
import Testing
import TestSupport

/// The server reads a compose's events from its stdout. If the reader goes
/// away (the server restarts), the compose must still finish and record its
/// result, not die of SIGPIPE halfway.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct EventReaderGoneTests {
    @Test func aComposeWhoseReaderLeftStillFinishes() throws {
        let harness = try ComposeHarness("reader-gone")
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        let process = Process()
        process.executableURL = Fixtures.treeforgeExecutable
        process.arguments = ["compose", "tree", treefile.path, "--repo", harness.repo.path, "--progress=json",
                             "--workdir", harness.dir.path("work").path]
        let events = Pipe()
        process.standardOutput = events
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read the first line, then close the reading end as a dying reader would.
        let reader = events.fileHandleForReading
        var first = Data()
        while !first.contains(0x0a) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            first.append(chunk)
        }
        #expect(String(decoding: first, as: UTF8.self).contains(#""type":"stageStarted""#))
        try reader.close()
        try events.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                "ended by \(process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(process.terminationStatus)")
        let build = try harness.lastBuild()
        #expect(build.status == "succeeded")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(try Oracle.ostree(harness.repo, ["summary", "--view"]).contains(head))
    }
}
