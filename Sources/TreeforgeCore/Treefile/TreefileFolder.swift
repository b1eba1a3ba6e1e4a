import Foundation
import LibSolv

/// The top-level treefile's folder as postprocess scripts see it (read-only
/// at `/tmp/treefile`). What they can read is an input of the compose, so it
/// is part of the input hash — except what is churn rather than input: `.git`,
/// and the repository, work and cache folders when they live inside it.
public struct TreefileFolder: Sendable {
    public var url: URL
    /// Folders inside `url` that are left out (made absolute and standardized).
    public var excluded: [String]

    public init(_ url: URL, excluding: [URL]) {
        self.url = url.standardizedFileURL
        excluded = excluding.map { $0.standardizedFileURL.path }
    }

    /// Paths relative to the folder of every file and symlink, sorted.
    public func files() throws -> [String] {
        var found: [String] = []
        try walk("", into: &found)
        return found.sorted()
    }

    private func isExcluded(_ relative: String) -> Bool {
        let path = url.appendingPathComponent(relative).path
        return relative.split(separator: "/").last == ".git" || excluded.contains(path)
    }

    private func walk(_ relative: String, into found: inout [String]) throws {
        let folder = relative.isEmpty ? url : url.appendingPathComponent(relative)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw ComposeError(.load, subject: folder.path, "cannot list the treefile's folder: \(error.localizedDescription)")
        }
        for name in names {
            let child = relative.isEmpty ? name : relative + "/" + name
            guard !isExcluded(child) else { continue }
            var info = stat()
            guard lstat(url.appendingPathComponent(child).path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                try walk(child, into: &found)
            } else {
                found.append(child)
            }
        }
    }

    /// One line per file: path, mode and content digest (a symlink's target).
    public func digest() throws -> String {
        var text = ""
        for relative in try files() {
            let path = url.appendingPathComponent(relative).path
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                text += "\(relative) -> \(target)\n"
                continue
            }
            guard let content = FileManager.default.contents(atPath: path) else {
                throw ComposeError(.load, subject: path, "cannot read this file of the treefile's folder (postprocess scripts can read it, so it is an input)")
            }
            let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int ?? 0
            text += "\(relative) \(String(mode, radix: 8)) \(Checksum.sha256.hex(of: content))\n"
        }
        return Checksum.sha256.hex(of: Data(text.utf8))
    }

    /// Copies what `files()` lists to `destination` (for unconfined scripts,
    /// which cannot get a bind mount).
    public func copy(to destination: URL) throws {
        for relative in try files() {
            let target = destination.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: url.appendingPathComponent(relative), to: target)
        }
    }
}
