import CSolv
import Foundation

/// One libsolv pool: the repositories loaded into it and the solver over them.
///
/// Not thread-safe (libsolv is not): confine a pool to one thread or actor.
/// The pool owns its repositories; `SolvRepository` values keep the pool alive.
public final class SolvPool {
    let raw: UnsafeMutablePointer<Pool>
    public let architecture: String

    /// Creates a pool with RPM version rules. Debian's libsolv defaults to
    /// Debian's comparison rules, so the dist type is set before anything else.
    public init(architecture: String) throws {
        raw = pool_create()
        self.architecture = architecture
        guard pool_setdisttype(raw, Int32(DISTTYPE_RPM)) != -1 else {
            pool_free(raw)
            throw SolvError(function: "pool_setdisttype", message: "this libsolv was built without RPM support")
        }
        pool_setarch(raw, architecture)
        // rpm-md primary.xml carries file provides only for /etc and *bin/;
        // other paths come from filelists, which callers load when needed.
    }

    deinit { pool_free(raw) }

    /// Adds an empty repository; fill it with `SolvRepository.add…`. A higher
    /// `priority` wins outright; among equals a higher `subpriority` is preferred.
    public func addRepository(name: String, priority: Int32 = 0, subpriority: Int32 = 0) -> SolvRepository {
        let repo = repo_create(raw, name)!
        repo.pointee.priority = priority
        repo.pointee.subpriority = subpriority
        return SolvRepository(pool: self, raw: repo)
    }

    /// Hides packages from the solver and from queries (dnf's excludes): a
    /// requirement only they satisfy becomes a problem, a weak one is dropped.
    /// Call after loading and before `prepareForSolving`.
    public func exclude(_ packages: [SolvableID]) {
        guard !packages.isEmpty else { return }
        let ids = packages.map(\.rawValue)
        ids.withUnsafeBufferPointer { csolv_exclude(raw, $0.baseAddress, Int32($0.count)) }
    }

    /// Every package of every repository, for filtering by name or repo.
    public var allPackages: [SolvableID] {
        var out: [SolvableID] = []
        for p in 2..<Int(raw.pointee.nsolvables) {
            let s = raw.pointee.solvables.advanced(by: p)
            if s.pointee.repo != nil { out.append(SolvableID(rawValue: Int32(p))) }
        }
        return out
    }

    /// Must run after every repository is loaded and before solving: it
    /// indexes file provides (so `Requires: /bin/sh` resolves) and builds the
    /// whatprovides index. Returns the file dependencies nothing provides —
    /// with primary metadata only, the sign that file lists are needed.
    @discardableResult
    public func prepareForSolving() -> [String] {
        var unprovided = Queue()
        queue_init(&unprovided)
        defer { queue_free(&unprovided) }
        csolv_prepare(raw, &unprovided)
        return (0..<Int(unprovided.count)).map { String(cString: pool_dep2str(raw, unprovided.elements[$0])) }
    }

    public var lastError: String { String(cString: pool_errstr(raw)) }

    // MARK: Queries

    /// Packages matching a dnf-style spec: a name, a provide, a file path,
    /// `name.arch`, or a relation such as `foo >= 1.2`.
    public func packages(matching spec: String) -> [SolvableID] {
        var selection = Queue()
        queue_init(&selection)
        defer { queue_free(&selection) }
        let flags = SELECTION_NAME | SELECTION_PROVIDES | SELECTION_FILELIST | SELECTION_CANON
            | SELECTION_DOTARCH | SELECTION_REL | SELECTION_GLOB
        _ = selection_make(raw, &selection, spec, Int32(flags))
        var solvables = Queue()
        queue_init(&solvables)
        defer { queue_free(&solvables) }
        selection_solvables(raw, &selection, &solvables)
        return Self.ids(solvables)
    }

    /// True when the spec matched by package name (not only by provide or file).
    public func nameMatches(_ spec: String) -> Bool {
        var selection = Queue()
        queue_init(&selection)
        defer { queue_free(&selection) }
        let flags = SELECTION_NAME | SELECTION_CANON | SELECTION_DOTARCH | SELECTION_REL
        return selection_make(raw, &selection, spec, Int32(flags)) != 0 && selection.count > 0
    }

    /// Packages whose Obsoletes match one of the given packages (what dnf
    /// offers in place of an obsoleted package that is asked for by name).
    public func obsoleters(of packages: [SolvableID]) -> [SolvableID] {
        var found: [SolvableID] = []
        var seen = Set<SolvableID>()
        for target in packages {
            var matches = Queue()
            queue_init(&matches)
            defer { queue_free(&matches) }
            let solvable = raw.pointee.solvables.advanced(by: Int(target.rawValue))
            // Provides of the target that an Obsoletes could name: its own name = EVR.
            let dep = pool_rel2id(raw, solvable.pointee.name, solvable.pointee.evr, Int32(REL_EQ), 1)
            pool_whatmatchesdep(raw, Id(SOLVABLE_OBSOLETES.rawValue), dep, &matches, -1)
            for id in Self.ids(matches) where id != target && seen.insert(id).inserted {
                found.append(id)
            }
        }
        return found
    }

    /// The capability names a package provides (its own name included).
    public func provideNames(_ id: SolvableID) -> [String] {
        var names = Queue()
        queue_init(&names)
        defer { queue_free(&names) }
        csolv_provide_names(raw, id.rawValue, &names)
        return Self.ids(names).map { String(cString: pool_id2str(raw, $0.rawValue)) }
    }

    public func package(_ id: SolvableID) -> PackageInfo {
        PackageInfo(pool: raw, id: id.rawValue)
    }

    static func ids(_ queue: Queue) -> [SolvableID] {
        (0..<Int(queue.count)).map { SolvableID(rawValue: queue.elements[$0]) }
    }
}

/// A package in a pool, by libsolv's id. Valid only for the pool it came from.
public struct SolvableID: Hashable, Sendable, Comparable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
