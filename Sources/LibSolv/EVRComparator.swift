import CSolv

/// Compares `[epoch:]version-release` strings by RPM's rules (rpmvercmp),
/// through libsolv. Not thread-safe; keep one per thread.
public final class EVRComparator {
    private let pool: UnsafeMutablePointer<Pool>

    public init() {
        pool = pool_create()
        pool_setdisttype(pool, Int32(DISTTYPE_RPM))
    }

    deinit { pool_free(pool) }

    /// Negative when `a` is older than `b`, zero when equal, positive when newer.
    public func compare(_ a: String, _ b: String) -> Int {
        Int(pool_evrcmp_str(pool, a, b, Int32(EVRCMP_COMPARE)))
    }
}
