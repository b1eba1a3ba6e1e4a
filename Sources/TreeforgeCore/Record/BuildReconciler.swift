import Foundation
import LibOSTree

/// Makes the build database agree with the repository after a crash: runs
/// when a compose starts.
///
/// - A build left `running` by a process that no longer exists is
///   `succeeded` when its commit reached the ref (the commit names its build
///   in `treeforge.build-id`), `interrupted` otherwise.
/// - A ref whose head commit no build recorded gets a build row made from
///   the commit's own metadata (trigger `reconciled`).
struct BuildReconciler {
    let store: BuildStore
    let repository: OSTreeRepository?

    /// What was changed, one line each.
    @discardableResult
    func reconcile(now: Date = Date()) throws -> [String] {
        var changes: [String] = []
        for build in try store.builds(status: .running) {
            guard let id = build.id, !Self.isAlive(build.pid) else { continue }
            if let ref = build.ref, let head = try? repository?.resolve(ref: ref),
               let info = try? repository?.commitInfo(head), info.metadata["treeforge.build-id"] == .uint64(UInt64(id)) {
                try store.update(id) {
                    $0.status = .succeeded
                    $0.commit = head
                    $0.parent = info.parent
                    $0.version = info.metadata["version"]?.string
                    $0.finishedAt = info.timestamp
                    $0.pid = nil
                }
                changes.append("build #\(id): its commit \(head) is on \(ref); recorded as succeeded")
            } else {
                let pid = build.pid.map { " (pid \($0))" } ?? ""
                try store.update(id) {
                    $0.status = .interrupted
                    $0.finishedAt = now
                    $0.error = "the compose process\(pid) ended before finishing; nothing was committed"
                    $0.pid = nil
                }
                changes.append("build #\(id) was interrupted")
            }
        }
        guard let repository else { return changes }
        for ref in try store.refs() {
            guard let head = try? repository.resolve(ref: ref), try store.build(commit: head) == nil,
                  let info = try? repository.commitInfo(head) else { continue }
            var build = BuildRecord(treefilePath: "", status: .succeeded, startedAt: info.timestamp)
            build.trigger = "reconciled"
            build.ref = ref
            build.commit = head
            build.parent = info.parent
            build.version = info.metadata["version"]?.string
            build.inputHash = info.metadata["treeforge.input-hash"]?.string
            build.treefileSHA256 = info.metadata["treeforge.treefile-sha256"]?.string
            if case .strings(let nevras) = info.metadata["treeforge.packages"] { build.packages = nevras }
            build.finishedAt = info.timestamp
            let id = try store.insert(build)
            changes.append("build #\(id): recorded \(head), found on \(ref) without a build")
        }
        return changes
    }

    /// A treeforge process with that pid still runs.
    static func isAlive(_ pid: Int32?) -> Bool {
        guard let pid, pid > 0, kill(pid, 0) == 0 else { return false }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: cmdline, as: UTF8.self).contains("treeforge")
    }
}
