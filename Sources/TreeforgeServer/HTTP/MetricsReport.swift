import Foundation
import TreeforgeCore

/// `/metrics` in Prometheus's text format (0.0.4): what the store, the
/// repository and the job runner say at the moment of the scrape. Stage
/// durations are a histogram over the last builds recorded, so the figures
/// survive a restart of the server.
struct MetricsReport {
    static let stageBuckets: [Double] = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800]
    static let recentBuilds = 500

    struct Inputs: Sendable {
        var statusCounts: [BuildRecord.Status: Int]
        var queued: [BuildRecord]
        var publishing: [BuildRecord]
        var recent: [BuildRecord]
        var summaryWrittenAt: Date?
        var diskFree: Int64?
        var repoRequests: Int
        var repoBytes: Int
        var running: Int
        var now: Date
    }

    static func render(_ inputs: Inputs) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(format(sample.value))\n" }
        }
        metric("treeforge_builds", "gauge", "Builds recorded, by status.",
               BuildRecord.Status.allCases.map { ("{status=\"\($0.rawValue)\"}", Double(inputs.statusCounts[$0] ?? 0)) })
        metric("treeforge_queue_depth", "gauge", "Composes queued and not yet started.", [("", Double(inputs.queued.count))])
        metric("treeforge_queue_oldest_age_seconds", "gauge", "How long the oldest queued compose has waited (0: none).",
               [("", inputs.queued.map(\.startedAt).min().map { max(0, inputs.now.timeIntervalSince($0)) } ?? 0)])
        metric("treeforge_running_composes", "gauge", "Compose children running now.", [("", Double(inputs.running))])
        let unpublished = inputs.publishing.compactMap { $0.finishedAt ?? $0.startedAt as Date? }.min()
        metric("treeforge_publish_lag_seconds", "gauge", "How long the oldest committed but unpublished head has waited (0: none).",
               [("", unpublished.map { max(0, inputs.now.timeIntervalSince($0)) } ?? 0)])
        metric("treeforge_summary_age_seconds", "gauge", "Seconds since the repository's summary was written (-1: no summary).",
               [("", inputs.summaryWrittenAt.map { max(0, inputs.now.timeIntervalSince($0)) } ?? -1)])
        metric("treeforge_repo_requests_total", "counter", "Requests answered under /repo/ since the server started.",
               [("", Double(inputs.repoRequests))])
        metric("treeforge_repo_bytes_total", "counter", "Bytes served under /repo/ since the server started.", [("", Double(inputs.repoBytes))])
        if let free = inputs.diskFree {
            metric("treeforge_disk_free_bytes", "gauge", "Free disk space where the repository lives.", [("", Double(free))])
        }
        text += "# HELP treeforge_stage_duration_seconds Seconds each stage took, over the last \(recentBuilds) builds.\n"
        text += "# TYPE treeforge_stage_duration_seconds histogram\n"
        var byStage: [String: [Double]] = [:]
        for build in inputs.recent {
            for (stage, seconds) in build.stageSeconds { byStage[stage, default: []].append(seconds) }
        }
        for (stage, values) in byStage.sorted(by: { $0.key < $1.key }) {
            for bucket in stageBuckets {
                text += "treeforge_stage_duration_seconds_bucket{stage=\"\(stage)\",le=\"\(format(bucket))\"} \(values.filter { $0 <= bucket }.count)\n"
            }
            text += "treeforge_stage_duration_seconds_bucket{stage=\"\(stage)\",le=\"+Inf\"} \(values.count)\n"
            text += "treeforge_stage_duration_seconds_sum{stage=\"\(stage)\"} \(format(values.reduce(0, +)))\n"
            text += "treeforge_stage_duration_seconds_count{stage=\"\(stage)\"} \(values.count)\n"
        }
        return text
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }
}

extension ServerServices {
    func metrics() async throws -> String {
        let store = self.store
        let repo = configuration.repo
        let traffic = repoTraffic.totals
        let running = await runner.snapshot.running.count
        return try await Blocking.run {
            let inputs = MetricsReport.Inputs(
                statusCounts: try store.statusCounts(),
                queued: try store.builds(BuildFilter(status: .queued, limit: 1000)),
                publishing: try store.builds(BuildFilter(status: .publishing, limit: 1000)),
                recent: try store.builds(BuildFilter(limit: MetricsReport.recentBuilds)),
                summaryWrittenAt: (try? FileManager.default.attributesOfItem(atPath: repo.appendingPathComponent("summary").path))?[.modificationDate] as? Date,
                diskFree: try? DiskSpace.available(at: repo), repoRequests: traffic.requests, repoBytes: traffic.bytes,
                running: running, now: Date())
            return MetricsReport.render(inputs)
        }
    }
}
