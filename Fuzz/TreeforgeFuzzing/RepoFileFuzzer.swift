import Foundation
import TreeforgeCore

/// Fuzzes `RepoFileReader.definitions(in:)` on one dnf `.repo` file, with
/// and without a `$releasever` to substitute (the selector byte's low bit).
public enum RepoFileFuzzer {
    public static func fuzz(_ data: Data) {
        guard let selector = data.first else { return }
        let folder = FuzzScratch.folder.appendingPathComponent("repos", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        FuzzScratch.write(data.dropFirst(), to: "repos/fuzz.repo")
        let reader = RepoFileReader(basearch: "x86_64", releasever: selector & 1 == 0 ? "40" : nil)
        let definitions: [String: RepoDefinition]
        do {
            definitions = try reader.definitions(in: folder)
        } catch is ComposeError {
            return
        } catch {
            FuzzFinding.unexpected(error, from: "RepoFileReader.definitions")
        }
        for definition in definitions.values {
            // What the resolver derives from a definition (RepositoryLoader).
            _ = (definition.isRemote, definition.baseURL.path, definition.gpgkeys.map(\.absoluteString), definition.solvPriorities)
        }
    }
}
