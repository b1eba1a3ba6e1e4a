import COSTree

/// A `GCancellable` for libostree's long calls (a commit, a static delta):
/// `cancel()` from any thread makes the call return a G_IO_ERROR_CANCELLED
/// error at its next check, and a commit's transaction is then aborted.
public final class OSTreeCancellable: @unchecked Sendable {
    let raw: UnsafeMutablePointer<GCancellable>

    public init() {
        raw = g_cancellable_new()
    }

    deinit { g_object_unref(UnsafeMutableRawPointer(raw)) }

    /// Thread-safe (GLib's contract for g_cancellable_cancel).
    public func cancel() { g_cancellable_cancel(raw) }

    public var isCancelled: Bool { g_cancellable_is_cancelled(raw) != 0 }
}

extension OSTreeError {
    /// The call stopped because its cancellable was cancelled.
    public var isCancellation: Bool {
        domain == "g-io-error-quark" && code == Int32(G_IO_ERROR_CANCELLED.rawValue)
    }
}
