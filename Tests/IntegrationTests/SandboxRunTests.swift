import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// `Sandbox.run`: a command with a composed root as `/` (how postprocess
/// scripts run), against a root that `compose install` built from the fixtures.
@Suite(.serialized, .enabled(if: bubblewrapRuns, "bwrap cannot create namespaces here (or not root)"))
struct SandboxRunTests {
    let dir: TemporaryDirectory
    let root: URL
    let sandbox: Sandbox

    init() throws {
        dir = try TemporaryDirectory("sandbox-run")
        root = try ShellRoot.install(into: dir)
        sandbox = Sandbox(bwrap: try #require(Sandbox.findExecutable()), sourceDateEpoch: 42)
    }

    func log() throws -> (URL, FileHandle) {
        let file = dir.path("log-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        return (file, try FileHandle(forWritingTo: file))
    }

    @Test func runsInTheRootWithReadOnlyBinds() throws {
        try dir.write("inputs/hello", "hello from the treefile folder\n")
        let (logFile, handle) = try log()
        let script = """
            read -r line < /run/inputs/hello && echo "read: $line"
            if (echo x > /run/inputs/new) 2>/dev/null; then echo "bind writable"; else echo "bind read-only"; fi
            echo written > /written-in-sandbox
            echo "epoch: $SOURCE_DATE_EPOCH path: $PATH"
            exit 7
            """
        let before = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        let exit = try sandbox.run(["/bin/sh", "-c", script], inRoot: root,
                                   readOnly: [.init(source: dir.path("inputs"), destination: "/run/inputs")], timeout: 30, log: handle)
        try handle.close()
        #expect(exit == .exited(status: 7))
        let output = try String(contentsOf: logFile, encoding: .utf8)
        #expect(output.contains("read: hello from the treefile folder"), "\(output)")
        #expect(output.contains("bind read-only"), "\(output)")
        #expect(output.contains("epoch: 42 path: /usr/sbin:/usr/bin"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("inputs/new").path))
        #expect(try String(contentsOf: root.appendingPathComponent("written-in-sandbox"), encoding: .utf8) == "written\n")
        // bwrap's mount points (/run/inputs) are gone again; nothing else changed at the top.
        let top = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        #expect(top == (before + ["written-in-sandbox"]).sorted(), "\(top)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("run").path).isEmpty)
    }

    @Test func stopsACommandThatRunsTooLong() throws {
        let marker = "treeforge-sandbox-timeout-\(UUID().uuidString)"
        let (logFile, handle) = try log()
        let started = Date()
        let exit = try sandbox.run(["/bin/sh", "-c", "echo \(marker) started; while :; do :; done"], inRoot: root,
                                   timeout: 1, log: handle)
        try handle.close()
        #expect(exit == .timedOut(seconds: 1))
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try String(contentsOf: logFile, encoding: .utf8).contains("\(marker) started"))
        #expect(LeftoverProcesses.matching(marker).isEmpty, "\(LeftoverProcesses.matching(marker))")
    }
}
