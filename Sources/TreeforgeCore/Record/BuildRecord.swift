import Foundation
import GRDB

/// One compose, as the build database keeps it.
public struct BuildRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "build"

    public enum Status: String, Codable, Sendable {
        case running, succeeded, failed
    }

    public var id: Int64?
    public var ref: String?
    public var treefilePath: String
    public var treefileSHA256: String?
    public var status: Status
    public var startedAt: Date
    public var finishedAt: Date?
    public var commit: String?
    public var version: String?
    /// The NEVRAs installed, sorted; stored as a JSON array.
    public var packages: [String] = []
    /// Seconds per stage; stored as a JSON object.
    public var stageSeconds: [String: Double] = [:]
    public var failedStage: String?
    public var error: String?

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
