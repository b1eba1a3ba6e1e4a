import Foundation

/// An advisory lock (`flock`) on a file under `<repo>/.treeforge/locks/`:
/// one per ref, so that only one compose (or prune, or publish) works on a
/// ref at a time, and one for the summary and delta index, which every ref's
/// publish rewrites. Locks are held by open files, so they end with the
/// process however it ends: a killed compose never leaves a ref locked.
///
/// The holder writes who it is into the file, so a waiter can say for whom
/// it waits. Threading: one thread at a time per instance; two instances on
/// the same file exclude each other, in one process as across processes.
public final class RepositoryLock {
    public let file: URL
    /// What the lock is for, in messages (`ref fedora/x86_64/base`, `the summary`).
    public let subject: String
    private var descriptor: Int32 = -1

    /// Who holds a lock, as its file says.
    public struct Holder: Codable, Sendable, Equatable, CustomStringConvertible {
        public var build: Int64?
        public var pid: Int32
        public var since: Date

        public init(build: Int64?, pid: Int32 = getpid(), since: Date = Date()) {
            self.build = build
            self.pid = pid
            self.since = since
        }

        public var description: String {
            let who = build.map { "build #\($0) (pid \(pid))" } ?? "pid \(pid)"
            return "\(who), since \(ComposeEventLine.timestamp(since))"
        }
    }

    public init(file: URL, subject: String) {
        self.file = file
        self.subject = subject
    }

    deinit { release() }

    static func folder(in repo: URL) -> URL { repo.appendingPathComponent(".treeforge/locks") }

    /// The lock of one ref.
    public static func ref(_ ref: String, in repo: URL) -> RepositoryLock {
        // A ref is a path (`a/b/c`); the file name keeps it readable and unique.
        let name = ref.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
        return RepositoryLock(file: folder(in: repo).appendingPathComponent("ref-\(name).lock"), subject: "ref \(ref)")
    }

    /// The lock of the summary file and the static delta index.
    public static func summary(in repo: URL) -> RepositoryLock {
        RepositoryLock(file: folder(in: repo).appendingPathComponent("summary.lock"), subject: "the summary of \(repo.path)")
    }

    /// The lock the compose server (`treeforge serve`) holds for as long as
    /// it runs: one server per repository.
    public static func server(in repo: URL) -> RepositoryLock {
        RepositoryLock(file: folder(in: repo).appendingPathComponent("server.lock"), subject: "the compose server of \(repo.path)")
    }

    /// Takes the lock if it is free; otherwise says who holds it (nil when
    /// the holder's note is gone) and takes nothing.
    public func acquireIfFree(as holder: Holder, stage: Stage) throws -> (acquired: Bool, holder: Holder?) {
        do {
            try acquire(as: holder, wait: false, stage: stage)
            return (true, nil)
        } catch let error as ComposeError {
            let fd = open(file.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw error }
            defer { close(fd) }
            // Busy, not broken: a lock that cannot be opened or locked is the error itself.
            guard flock(fd, LOCK_SH | LOCK_NB) != 0, errno == EWOULDBLOCK else { throw error }
            return (false, Self.holder(fd))
        }
    }

    /// Takes the lock. When another holds it: with `wait`, tells `waiting`
    /// who (once) and waits until it is free or `cancellation` fires; without,
    /// throws at once naming the holder.
    public func acquire(as holder: Holder, wait: Bool, stage: Stage, cancellation: Cancellation? = nil,
                        waiting: (Holder?) -> Void = { _ in }) throws {
        guard descriptor < 0 else { return }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ComposeError(stage, subject: subject, "cannot open the lock file \(file.path): \(String(cString: strerror(errno)))")
        }
        var told = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw ComposeError(stage, subject: subject, "cannot lock \(file.path): \(reason)")
            }
            let current = Self.holder(fd)
            guard wait else {
                close(fd)
                throw ComposeError(stage, subject: subject,
                                   "is being worked on by \(current.map(String.init(describing:)) ?? "another process") (--no-wait given); wait for it to finish or run again without --no-wait")
            }
            if !told {
                waiting(current)
                told = true
            }
            if let cancellation, cancellation.isCancelled {
                close(fd)
                try cancellation.check(stage)
            }
            usleep(100_000)
        }
        descriptor = fd
        if let data = try? JSONEncoder().encode(holder) {
            _ = ftruncate(fd, 0)
            _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    public func release() {
        guard descriptor >= 0 else { return }
        // Unlocked by closing; the file stays (removing it would race a waiter's open).
        close(descriptor)
        descriptor = -1
    }

    /// Runs `body` holding the lock.
    public func withLock<T>(as holder: Holder, stage: Stage, cancellation: Cancellation? = nil,
                            waiting: (Holder?) -> Void = { _ in }, _ body: () throws -> T) throws -> T {
        try acquire(as: holder, wait: true, stage: stage, cancellation: cancellation, waiting: waiting)
        defer { release() }
        return try body()
    }

    /// The holder the file names, when it is still alive (a dead one's note
    /// may linger until the next holder overwrites it).
    private static func holder(_ fd: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0, let holder = try? JSONDecoder().decode(Holder.self, from: Data(buffer.prefix(count))),
              kill(holder.pid, 0) == 0 || errno == EPERM else { return nil }
        return holder
    }
}
