import Foundation
import Hummingbird
import TreeforgeCore

/// The JSON the API answers with. Field names are a contract (scripts and
/// the OpenAPI document depend on them): add fields, never rename them.

struct SubmissionResponse: Codable, Sendable, ResponseEncodable {
    var id: Int64
    var url: String
    var status: String
    /// Joined a build already queued for the same ref.
    var coalesced: Bool
}

struct BuildSummary: Codable, Sendable {
    var id: Int64
    var url: String
    var status: String
    var ref: String?
    var version: String?
    var commit: String?
    var composeId: String?
    var trigger: String
    var startedAt: Date
    var finishedAt: Date?

    init(_ build: BuildRecord) {
        id = build.id ?? 0
        url = "/api/v1/builds/\(id)"
        status = build.status.rawValue
        ref = build.ref
        version = build.version
        commit = build.commit
        composeId = build.composeId
        trigger = build.trigger
        startedAt = build.startedAt
        finishedAt = build.finishedAt
    }
}

struct BuildList: Codable, Sendable, ResponseEncodable {
    var builds: [BuildSummary]
    /// The `before` that gives the next page, when there may be one.
    var next: String?
}

struct BuildDetails: Codable, Sendable, ResponseEncodable {
    var id: Int64
    var url: String
    var eventsUrl: String
    var status: String
    var ref: String?
    var version: String?
    var commit: String?
    var parent: String?
    var composeId: String?
    var trigger: String
    /// The compose process while it runs.
    var pid: Int32?
    var treefile: String?
    var submittedBy: String?
    var submittedAt: Date?
    var startedAt: Date
    var finishedAt: Date?
    var publishedAt: Date?
    /// The stock client's pull of the new head from `/repo/`, or why it failed.
    var pullCheck: String?
    var inputHash: String?
    var stageSeconds: [String: Double]
    var stageInputs: [String: String]
    var failedStage: String?
    var error: String?
    var packages: [String]
    var eventCounts: [String: Int]
    /// The build this one was queued again as, after a shutdown cancelled it.
    var requeuedAs: Int64?
    /// The static deltas its publish wrote.
    var deltas: [DeltaSummary] = []
    /// The committed tree: bytes of its files, and how many files and symlinks.
    var treeSize: Int64?
    var treeFiles: Int64?
    /// What it was made from, where recorded: `treefile`, `lockfile`.
    var inputs: [String: String] = [:]

    init(_ build: BuildRecord, job: Job?, eventCounts: [String: Int]) {
        id = build.id ?? 0
        url = "/api/v1/builds/\(id)"
        eventsUrl = url + "/events"
        status = build.status.rawValue
        ref = build.ref
        version = build.version
        commit = build.commit
        parent = build.parent
        composeId = build.composeId
        trigger = build.trigger
        pid = build.pid
        treefile = job?.treefileName ?? (build.treefilePath.isEmpty ? nil : build.treefilePath)
        submittedBy = job?.submittedBy
        submittedAt = job?.submittedAt
        startedAt = build.startedAt
        finishedAt = build.finishedAt
        publishedAt = build.publishedAt
        pullCheck = build.pullCheck
        inputHash = build.inputHash
        stageSeconds = build.stageSeconds
        stageInputs = build.stageInputs
        failedStage = build.failedStage
        error = build.error
        packages = build.packages
        self.eventCounts = eventCounts
        requeuedAs = job?.requeuedAs
        treeSize = build.treeSize
        treeFiles = build.treeFiles
    }
}

struct DeltaSummary: Codable, Sendable {
    /// nil: from scratch.
    var from: String?
    var to: String
    var size: Int64
    var parts: Int
}

struct CancelResponse: Codable, Sendable, ResponseEncodable {
    var id: Int64
    /// `cancelled` (it was queued) or `cancelling` (its compose is being stopped).
    var status: String
}

struct RefSummary: Codable, Sendable {
    var ref: String
    var head: String
    var version: String?
    var timestamp: Date?
    /// The summary mirrors read lists this head.
    var published: Bool
    /// The build that made the head, when one is recorded.
    var build: Int64?
    var deltas: [String]
}

struct RefList: Codable, Sendable, ResponseEncodable {
    var refs: [RefSummary]
    var summaryWrittenAt: Date?
    var summarySigned: Bool
}

struct TreefileEntry: Codable, Sendable {
    var name: String
    var ref: String?
    /// Why it cannot be composed, when it cannot.
    var error: String?
}

struct TreefileList: Codable, Sendable, ResponseEncodable {
    var treefiles: [TreefileEntry]
}

struct HealthReport: Codable, Sendable, ResponseEncodable {
    struct Check: Codable, Sendable {
        var ok: Bool
        var detail: String
    }
    var status: String
    var checks: [String: Check]
}

struct DiffResponse: Codable, Sendable, ResponseEncodable {
    var from: Int64
    var to: Int64
    var diff: BuildDiff
}

extension JSONEncoder {
    /// How the API writes JSON: ISO 8601 times, sorted keys.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
