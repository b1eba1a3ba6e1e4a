import Foundation

/// A child process that can be stopped with everything it started.
///
/// Foundation starts each child in a process group of its own, so killing
/// the group reaches an unconfined rpm child's scriptlets too. Under bwrap the
/// group holds bwrap; the confined command runs in a new session in its own
/// pid namespace, whose processes the kernel kills when bwrap's pid 1 dies.
///
/// Threading: `start` and `waitForExit` from one thread; `stop` from any.
public final class SupervisedProcess: @unchecked Sendable {
    private let process = Process()
    public let arguments: [String]

    /// `arguments[0]` is the executable's path. Output goes where the given
    /// `Pipe`s or `FileHandle`s lead (written as it comes: nothing buffered here).
    public init(arguments: [String], environment: [String: String], standardOutput: Any, standardError: Any) {
        self.arguments = arguments
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = standardOutput
        process.standardError = standardError
    }

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func start() throws {
        try process.run()
    }

    /// SIGKILL to the child's process group (the child alone if it does not
    /// lead one, so this never signals treeforge's own group). True when a
    /// running process was signalled.
    @discardableResult
    public func stop() -> Bool {
        let pid = process.processIdentifier
        guard pid > 0, process.isRunning else { return false }
        let target = getpgid(pid) == pid ? -pid : pid
        return kill(target, SIGKILL) == 0
    }

    /// The exit status, or 128 + the signal that ended it (as a shell reports it).
    @discardableResult
    public func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }
}

/// How a command run with a time limit ended.
public enum SupervisedExit: Sendable, Equatable {
    case exited(status: Int32)
    /// Stopped (with everything it started) after this many seconds.
    case timedOut(seconds: TimeInterval)
}

extension SupervisedProcess {
    /// Starts, waits at most `timeout` seconds, then stops the whole tree;
    /// `cancellation` stops it too (the caller then reports the cancel).
    public func run(timeout: TimeInterval, cancellation: Cancellation? = nil) throws -> SupervisedExit {
        try start()
        let stopOnCancel = cancellation?.onCancel { [self] in stop() }
        defer { stopOnCancel?.end() }
        let timedOut = Flag()
        // Only a process that was still running when stopped timed out; one
        // that ended just before the watchdog fired did not.
        let watchdog = DispatchWorkItem { [self] in
            if stop() { timedOut.set() }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let status = waitForExit()
        watchdog.cancel()
        return timedOut.isSet ? .timedOut(seconds: timeout) : .exited(status: status)
    }
}

/// A boolean set once from another thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
