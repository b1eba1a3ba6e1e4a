import Foundation

/// A treeforge child process (a compose, a publish) that the server
/// supervises: its stdout read line by line as it comes (the event stream),
/// the end of its stderr kept (what a child that died said last), its exit
/// reported once.
///
/// Threading: two reader threads of its own; `onLine` and `onExit` are
/// called from them; `signal` from any thread.
final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var stderrTail = Data()
    private static let stderrKept = 16 * 1024

    let arguments: [String]

    init(executable: URL, arguments: [String]) {
        self.arguments = arguments
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
    }

    var pid: Int32 { process.processIdentifier }

    /// Starts the child; `onLine` gets each stdout line, `onExit` its exit
    /// status (128 + the signal when one ended it) once both streams ended.
    func start(onLine: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (Int32) -> Void) throws {
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let streams = DispatchGroup()
        // The child asks the kernel for SIGKILL when its parent dies, and "parent"
        // means the thread that forked it: spawned from a pool thread, it would die
        // when the pool retired that thread. One thread, alive as long as the server,
        // spawns every child.
        try SpawnThread.shared.run { try self.process.run() }
        streams.enter()
        Thread.detachNewThread {
            Self.readLines(stdout.fileHandleForReading, onLine)
            streams.leave()
        }
        streams.enter()
        Thread.detachNewThread { [self] in
            let handle = stderr.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock {
                    stderrTail.append(chunk)
                    if stderrTail.count > Self.stderrKept { stderrTail = stderrTail.suffix(Self.stderrKept) }
                }
            }
            streams.leave()
        }
        let process = self.process
        Thread.detachNewThread {
            streams.wait()
            process.waitUntilExit()
            onExit(process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus)
        }
    }

    /// What the child wrote last on stderr.
    var lastOutput: String { lock.withLock { String(decoding: stderrTail, as: UTF8.self) } }

    func signal(_ number: Int32) {
        let pid = process.processIdentifier
        if pid > 0, process.isRunning { kill(pid, number) }
    }

    private static func readLines(_ handle: FileHandle, _ onLine: (String) -> Void) {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0a) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                if !line.isEmpty { onLine(String(decoding: line, as: UTF8.self)) }
            }
        }
        if !buffer.isEmpty { onLine(String(decoding: buffer, as: UTF8.self)) }
    }
}

/// The one long-lived thread that spawns the server's children (see
/// `ChildProcess.start`): `PR_SET_PDEATHSIG` follows the spawning thread.
final class SpawnThread: @unchecked Sendable {
    static let shared = SpawnThread()

    private let condition = NSCondition()
    private var work: [() -> Void] = []

    private init() {
        let thread = Thread { [self] in loop() }
        thread.name = "treeforge.spawn"
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }

    /// Runs `body` on the spawn thread and waits for it.
    func run(_ body: @escaping () throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        var failure: (any Error)?
        condition.lock()
        work.append {
            do { try body() } catch { failure = error }
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        if let failure { throw failure }
    }
}
