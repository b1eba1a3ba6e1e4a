import Foundation
import LibOSTree

/// The one OSTree repository handle of a compose: opened when first needed
/// (a compose that fails before committing creates no repository), created
/// as `archive` when the commit needs it and the folder holds none.
///
/// Threading: used from the compose's thread only (libostree blocks).
final class ComposeRepository {
    let path: URL
    private var opened: OSTreeRepository?

    init(path: URL) {
        self.path = path
    }

    var exists: Bool { FileManager.default.fileExists(atPath: path.appendingPathComponent("config").path) }

    /// The repository if it exists yet.
    func existing() throws -> OSTreeRepository? {
        if let opened { return opened }
        guard exists else { return nil }
        return try open(create: false)
    }

    /// The repository, created when the folder holds none.
    func openOrCreate() throws -> OSTreeRepository {
        if let opened { return opened }
        return try open(create: true)
    }

    private func open(create: Bool) throws -> OSTreeRepository {
        do {
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
            let repository = create ? try OSTreeRepository.openOrCreate(path: path.path, mode: .archive)
                : try OSTreeRepository.open(path: path.path)
            opened = repository
            return repository
        } catch let error as OSTreeError {
            throw ComposeError(.commit, subject: path.path, "cannot \(create ? "open or create" : "open") the OSTree repository: \(error)")
        }
    }
}
