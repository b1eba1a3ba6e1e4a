import Foundation

/// A request to stop a compose: from SIGTERM or SIGINT on the command line,
/// later from the server. Stages check it between steps and register how to
/// stop what blocks them (the rpm child, a libostree call, a script).
///
/// Threading: `cancel` from any thread (a signal handler's queue); handlers
/// run on that thread, once, outside the lock.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var why: String?
    private var bySignal: Int32?
    private var handlers: [Int: @Sendable () -> Void] = [:]
    private var nextHandler = 0

    public init() {}

    public var isCancelled: Bool { lock.withLock { why != nil } }
    /// What cancelled it (`SIGTERM`, `cancelled by nightly`), once cancelled.
    public var reason: String? { lock.withLock { why } }
    /// The signal that cancelled it, if one did (the exit status is 128 + it).
    public var signal: Int32? { lock.withLock { bySignal } }

    /// Cancels, running every registered handler; later calls do nothing.
    public func cancel(reason: String, signal: Int32? = nil) {
        let toRun: [@Sendable () -> Void] = lock.withLock {
            guard why == nil else { return [] }
            why = reason
            bySignal = signal
            defer { handlers = [:] }
            return Array(handlers.values)
        }
        for handler in toRun { handler() }
    }

    /// Runs `handler` when cancelled (at once if already cancelled) until the
    /// returned registration ends.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) -> Registration {
        let id: Int? = lock.withLock {
            guard why == nil else { return nil }
            nextHandler += 1
            handlers[nextHandler] = handler
            return nextHandler
        }
        guard let id else {
            handler()
            return Registration {}
        }
        return Registration { [weak self] in self?.lock.withLock { _ = self?.handlers.removeValue(forKey: id) } }
    }

    /// Throws `ComposeCancelled` when cancelled.
    public func check(_ stage: Stage) throws {
        if isCancelled { throw cancelled(in: stage) }
    }

    /// The error a stage stopped by this cancellation throws.
    public func cancelled(in stage: Stage) -> ComposeCancelled {
        ComposeCancelled(stage: stage, reason: reason ?? "cancelled", signal: signal)
    }

    /// Ends a handler's registration when released or `end()`ed.
    public final class Registration: @unchecked Sendable {
        private var remove: (() -> Void)?
        init(_ remove: @escaping () -> Void) { self.remove = remove }
        public func end() {
            remove?()
            remove = nil
        }
        deinit { end() }
    }
}

/// A compose stopped on request, in `stage`.
public struct ComposeCancelled: Error, Sendable, CustomStringConvertible {
    public let stage: Stage
    public let reason: String
    /// The signal that cancelled, if one did.
    public let signal: Int32?

    public var description: String { "cancelled (\(reason)) during \(stage)" }

    /// 128 + the signal (130 SIGINT, 143 SIGTERM), as shells report it; 4 otherwise.
    public var exitStatus: Int32 { signal.map { 128 + $0 } ?? ComposeResult.cancelledExitStatus }
}
