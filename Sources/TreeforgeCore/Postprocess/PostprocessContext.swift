import Foundation
import LibOSTree

/// What every postprocess rule gets: the root it shapes, the treefile it
/// follows, and the ref's previous commit when there is one.
public struct PostprocessContext {
    public let root: RootDirectory
    public let treefile: Treefile
    public let previous: PreviousCommit?
    public let events: ComposeEventSink

    public init(root: URL, treefile: Treefile, previous: PreviousCommit?, events: ComposeEventSink) {
        self.root = RootDirectory(root)
        self.treefile = treefile
        self.previous = previous
        self.events = events
    }

    var config: TreefileConfig { treefile.config }
}

/// The head of the ref being composed, read through libostree.
public final class PreviousCommit {
    public let checksum: String
    let repository: OSTreeRepository

    init(checksum: String, repository: OSTreeRepository) {
        self.checksum = checksum
        self.repository = repository
    }

    /// The ref's head in the repository at `repo`; nil when the repository
    /// or the ref does not exist yet.
    public static func head(of ref: String, in repo: URL) throws -> PreviousCommit? {
        guard FileManager.default.fileExists(atPath: repo.appendingPathComponent("config").path) else { return nil }
        do {
            return try head(of: ref, in: try OSTreeRepository.open(path: repo.path))
        } catch let error as OSTreeError {
            throw ComposeError(.postprocess, subject: "ref \(ref) in \(repo.path)", "cannot read the previous commit: \(error)")
        }
    }

    /// The ref's head in an open repository (nil: none yet).
    static func head(of ref: String, in repository: OSTreeRepository?) throws -> PreviousCommit? {
        guard let repository else { return nil }
        do {
            return try repository.resolve(ref: ref).map { PreviousCommit(checksum: $0, repository: repository) }
        } catch let error as OSTreeError {
            throw ComposeError(.postprocess, subject: "ref \(ref) in \(repository.path)", "cannot read the previous commit: \(error)")
        }
    }

    /// A file's bytes in the commit's tree; nil when it has none there.
    public func file(_ path: String) throws -> Data? {
        do {
            return try repository.fileContents(commit: checksum, path: path)
        } catch let error as OSTreeError {
            throw ComposeError(.postprocess, subject: "\(path) in commit \(checksum)", "cannot read the previous commit's file: \(error)")
        }
    }
}
