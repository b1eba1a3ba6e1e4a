import Foundation
import LibOSTree

/// Makes the build database agree with the repository after a crash: runs
/// when a compose starts, and before `treeforge publish`.
///
/// - A build left `running` or `publishing` by a process that no longer
///   exists, whose commit is the ref's head (the commit names its build in
///   `treeforge.build-id`), is `publishing`: its publish did not finish, or
///   not as far as its record. The reconciler never calls it `succeeded` —
///   it runs for any ref, without that ref's lock, and under whatever
///   policy the current process has — and leaves finishing it to the next
///   compose of the ref or `treeforge publish` (`PendingPublication`),
///   which holds the lock and records it `succeeded`. Any other dead build
///   is `interrupted`.
/// - A ref whose head commit no build recorded gets a build row made from
///   the commit's own metadata (trigger `reconciled`): `succeeded` when the
///   summary lists it (someone published it), else `publishing`.
///
/// Every change is conditional on the row being as it was read: a compose
/// in another process may settle it in between.
struct BuildReconciler {
    let store: BuildStore
    let repository: OSTreeRepository?

    /// What was changed, one line each.
    @discardableResult
    func reconcile(now: Date = Date()) throws -> [String] {
        var changes: [String] = []
        for build in try store.builds(status: .running) + store.builds(status: .publishing) {
            guard let id = build.id, !ProcessIdentity.isAlive(pid: build.pid, identity: build.process) else { continue }
            let unchanged: @Sendable (BuildRecord) -> Bool = { [status = build.status, pid = build.pid] in $0.status == status && $0.pid == pid }
            if let folder = build.scratchFolder {
                Self.removeScratchFolder(folder)
                try store.update(id) { $0.scratchFolder = nil }
                changes.append("build #\(id): removed its scratch folder \(folder)")
            }
            if let ref = build.ref, let head = try? repository?.resolve(ref: ref),
               let info = try? repository?.commitInfo(head), info.metadata["treeforge.build-id"] == .uint64(UInt64(id)) {
                // Already settled as pending by an earlier reconcile: nothing to say again.
                if build.status == .publishing, build.pid == nil, build.commit == head { continue }
                let changed = try store.update(id, if: unchanged) {
                    $0.status = .publishing
                    $0.commit = head
                    $0.parent = info.parent
                    $0.version = info.metadata["version"]?.string
                    $0.finishedAt = $0.finishedAt ?? info.timestamp
                    $0.pid = nil
                }
                if changed {
                    changes.append("build #\(id): its commit \(head) is on \(ref), its publish unfinished; recorded as publishing")
                }
            } else {
                let pid = build.pid.map { " (pid \($0))" } ?? ""
                let error = build.status == .publishing && build.commit != nil
                    ? "its commit \(build.commit!) was never published: \(build.ref ?? "the ref") moved on before it was"
                    : "the compose process\(pid) ended before finishing; nothing was committed"
                let changed = try store.update(id, if: unchanged) {
                    $0.status = .interrupted
                    $0.finishedAt = now
                    $0.error = error
                    $0.pid = nil
                }
                if changed { changes.append("build #\(id) was interrupted") }
            }
        }
        // A compose that ended before removing its root (a second signal
        // during the removal): gone now, unless it failed (kept for
        // inspection; in memory, only until this next compose).
        for build in try store.buildsWithScratchFolders() where build.status.isFinished {
            guard let id = build.id, let folder = build.scratchFolder,
                  build.status != .failed || folder.hasPrefix(ScratchSpace.memoryPrefix),
                  !ProcessIdentity.isAlive(pid: build.pid, identity: build.process) else { continue }
            Self.removeScratchFolder(folder)
            try store.update(id) { $0.scratchFolder = nil }
            changes.append("build #\(id): removed its scratch folder \(folder)")
        }
        guard let repository else { return changes }
        let summary = (try? repository.summaryRefs()) ?? nil
        for ref in try store.refs() {
            guard let head = try? repository.resolve(ref: ref), try store.build(commit: head) == nil,
                  let info = try? repository.commitInfo(head) else { continue }
            // A build of ours that is still running has moved the ref but not
            // yet recorded its commit: it is not a stranger's commit.
            if case .uint64(let owner)? = info.metadata["treeforge.build-id"], let build = try store.build(Int64(owner)),
               build.ref == ref, !build.status.isFinished {
                continue
            }
            let listed = summary?[ref] == head
            var build = BuildRecord(treefilePath: "", status: listed ? .succeeded : .publishing, startedAt: info.timestamp)
            build.trigger = "reconciled"
            build.ref = ref
            build.commit = head
            build.parent = info.parent
            build.version = info.metadata["version"]?.string
            build.inputHash = info.metadata["treeforge.input-hash"]?.string
            build.treefileSHA256 = info.metadata["treeforge.treefile-sha256"]?.string
            if case .strings(let nevras) = info.metadata["treeforge.packages"] { build.packages = nevras }
            build.finishedAt = info.timestamp
            if listed { build.publishedAt = now }
            let id = try store.insert(build)
            changes.append("build #\(id): recorded \(head), found on \(ref) without a build")
        }
        return changes
    }

    /// Removes a dead compose's scratch folder: only one treeforge made.
    static func removeScratchFolder(_ path: String) {
        guard ScratchSpace.prefixes.contains(where: { path.hasPrefix($0) }), !path.contains("/../") else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Crash recovery as a service of its own, for the compose server: settles
/// the builds of composes that died (see `BuildReconciler`) without
/// composing. Blocks (SQLite, libostree): not for the cooperative pool.
public enum RepositoryReconciliation {
    /// What was changed, one line each.
    @discardableResult
    public static func run(store: BuildStore, repo: URL) throws -> [String] {
        try BuildReconciler(store: store, repository: try ComposeRepository(path: repo).existing()).reconcile()
    }
}
