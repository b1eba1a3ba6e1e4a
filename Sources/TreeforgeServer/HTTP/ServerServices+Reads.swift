import Foundation
import TreeforgeCore

/// What the public (read-only) endpoints answer.
extension ServerServices {
    func builds(_ filter: BuildFilter) async throws -> BuildList {
        let store = self.store
        let builds = try await Blocking.run { try store.builds(filter) }
        let next = builds.count == filter.limit ? builds.last?.id.map(String.init) : nil
        return BuildList(builds: builds.map(BuildSummary.init), next: next)
    }

    func build(_ id: Int64) async throws -> BuildDetails {
        let store = self.store
        return try await Blocking.run {
            guard let build = try store.builds.build(id) else { throw APIError.notFound("no build #\(id)") }
            var details = BuildDetails(build, job: try store.job(id), eventCounts: try store.eventCounts(of: id))
            details.deltas = try store.builds.deltas(of: id).map { DeltaSummary(from: $0.from, to: $0.to, size: $0.size, parts: $0.parts) }
            for input in try store.builds.inputs(of: id) {
                details.inputs[input.name] = "/api/v1/builds/\(id)/\(input.name)"
            }
            return details
        }
    }

    /// What the build was made from (`BuildInput.treefile`, `.lockfile`), as recorded.
    func input(_ id: Int64, _ name: String) async throws -> String {
        let store = self.store
        return try await Blocking.run {
            guard try store.builds.build(id) != nil else { throw APIError.notFound("no build #\(id)") }
            guard let input = try store.builds.inputs(of: id).first(where: { $0.name == name }) else {
                throw APIError.notFound("build #\(id) has no \(name) recorded: it ended before it \(name == BuildInput.lockfile ? "resolved its packages" : "read its treefile")")
            }
            return input.text
        }
    }

    /// The build's recorded event stream: each line as the compose wrote it.
    func events(_ id: Int64) async throws -> [String] {
        let store = self.store
        return try await Blocking.run {
            guard try store.builds.build(id) != nil else { throw APIError.notFound("no build #\(id)") }
            return try store.events(of: id)
        }
    }

    func diff(_ id: Int64, _ other: Int64) async throws -> DiffResponse {
        let store = self.store
        return try await Blocking.run {
            for build in [id, other] where try store.builds.build(build) == nil {
                throw APIError.notFound("no build #\(build)")
            }
            let diff = BuildDiff(from: try store.builds.packages(of: id), to: try store.builds.packages(of: other))
            return DiffResponse(from: id, to: other, diff: diff)
        }
    }

    func refs() async throws -> RefList {
        let repo = configuration.repo
        let store = self.store
        return try await Blocking.run {
            let overview = try RepositoryOverview.read(repo: repo)
            return RefList(refs: try overview.refs.map { ref in
                RefSummary(ref: ref.ref, head: ref.head, version: ref.version, timestamp: ref.timestamp, published: ref.published,
                           build: try store.builds.build(commit: ref.head)?.id, deltas: ref.deltas)
            }, summaryWrittenAt: overview.summaryWrittenAt, summarySigned: overview.summarySigned)
        }
    }

    func treefiles() async throws -> TreefileList {
        let catalog = self.catalog
        return try await Blocking.run {
            TreefileList(treefiles: catalog.names().map { name in
                do {
                    let treefile = try catalog.load(name)
                    return TreefileEntry(name: name, ref: treefile.ref.isEmpty ? nil : treefile.ref,
                                         error: treefile.ref.isEmpty ? "sets no ref (an include?)" : nil)
                } catch {
                    return TreefileEntry(name: name, ref: nil, error: "\(error)")
                }
            })
        }
    }

    /// The database answers, the repository opens, and its disk has room.
    func health() async -> HealthReport {
        let store = self.store
        let repo = configuration.repo
        let minimumFree = configuration.minimumFreeDisk
        var checks: [String: HealthReport.Check] = [:]
        checks["database"] = await Self.check {
            let queued = try store.queued().count
            return "answers; \(queued) queued"
        }
        checks["repository"] = await Self.check {
            let overview = try RepositoryOverview.read(repo: repo)
            return overview.refs.isEmpty ? "\(repo.path): no refs yet" : "\(repo.path): \(overview.refs.count) refs"
        }
        checks["disk"] = await Self.check {
            let free = try DiskSpace.available(at: repo)
            guard free >= minimumFree else {
                throw APIError(.serviceUnavailable, "disk_full", "\(DiskSpace.format(free)) free under \(repo.path), below \(DiskSpace.format(minimumFree))")
            }
            return "\(DiskSpace.format(free)) free"
        }
        return HealthReport(status: checks.values.allSatisfy(\.ok) ? "ok" : "failing", checks: checks)
    }

    private static func check(_ body: @escaping @Sendable () throws -> String) async -> HealthReport.Check {
        do {
            return HealthReport.Check(ok: true, detail: try await Blocking.run(body))
        } catch let error as APIError {
            return HealthReport.Check(ok: false, detail: error.message)
        } catch {
            return HealthReport.Check(ok: false, detail: "\(error)")
        }
    }
}

/// Free space where the repository lives.
enum DiskSpace {
    static func available(at url: URL) throws -> Int64 {
        var folder = url
        while !FileManager.default.fileExists(atPath: folder.path), folder.path != "/" { folder.deleteLastPathComponent() }
        var stats = statvfs()
        guard statvfs(folder.path, &stats) == 0 else {
            throw APIError(.serviceUnavailable, "disk_unreadable", "statvfs \(folder.path): \(String(cString: strerror(errno)))")
        }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    static func format(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary)
    }
}
