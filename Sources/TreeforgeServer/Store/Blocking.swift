import Dispatch

/// Runs blocking work (SQLite, libostree, file IO) on threads of its own, so
/// that it never holds one of the few threads of Swift's cooperative pool
/// (two here) that every request and service shares.
enum Blocking {
    private static let queue = DispatchQueue(label: "treeforge.server.blocking", qos: .userInitiated, attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
