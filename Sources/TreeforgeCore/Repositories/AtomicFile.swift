import Foundation

/// How cache files are replaced: never rewritten in place. The new content
/// goes to a temporary file of its own in the destination's folder, is
/// flushed to disk (fsync), then renamed over the destination. A reader sees
/// the old file or the new one, never a mix; a crash or a kill at any point
/// leaves at worst a temporary file that nothing reads (its name is unique to
/// one writer: `<name>.part-<uuid>`, never looked up).
///
/// The fsync before the rename is what matters for correctness: without it,
/// after a power cut the new name can point at a file whose data never
/// reached the disk (zero-length or garbage). Flushing the folder as well
/// only makes the rename itself durable; callers do it once per batch
/// (`syncFolder`), since a lost rename costs a re-download, never a wrong
/// answer.
enum AtomicFile {
    /// Why a file could not be put in place.
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "cannot write \(path): \(reason)" }
    }

    /// Writes `data` to `destination` as described above.
    static func write(_ data: Data, to destination: URL) throws {
        try replace(destination) { temporary in
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw Failure(path: temporary.path, reason: "cannot create the file")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        }
    }

    /// Moves a finished file (a download in a temporary folder, say) into
    /// place as described above. `file` is gone afterwards.
    static func move(_ file: URL, to destination: URL) throws {
        try replace(destination) { temporary in
            // A rename on the same file system, else a copy: into a name of
            // our own either way, so a half-done copy is never seen.
            try FileManager.default.moveItem(at: file, to: temporary)
            let handle = try FileHandle(forReadingFrom: temporary)
            defer { try? handle.close() }
            try handle.synchronize()
        }
    }

    /// Makes the renames done in `folder` durable (fsync of the folder).
    static func syncFolder(_ folder: URL) throws {
        do {
            let handle = try FileHandle(forReadingFrom: folder)
            defer { try? handle.close() }
            try handle.synchronize()
        } catch {
            throw Failure(path: folder.path, reason: "cannot flush the folder to disk: \(error.localizedDescription)")
        }
    }

    /// Fills a temporary file beside `destination` with `fill`, then renames
    /// it into place; the temporary file never outlives a failure.
    private static func replace(_ destination: URL, fill: (URL) throws -> Void) throws {
        let temporary = temporaryFile(beside: destination)
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fill(temporary)
            guard Foundation.rename(temporary.path, destination.path) == 0 else {
                throw Failure(path: destination.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error as? Failure ?? Failure(path: destination.path, reason: error.localizedDescription)
        }
    }

    /// A name in the destination's folder that no other writer uses.
    static func temporaryFile(beside destination: URL) -> URL {
        destination.deletingLastPathComponent()
            .appendingPathComponent("\(destination.lastPathComponent).part-\(UUID().uuidString)")
    }
}
