import Foundation
import TreeforgeCore

/// The treefiles the server composes, named by their path under its
/// treefiles folder (`demo/demo.yaml`). Nothing outside that folder can be
/// named: no `..`, no absolute path, no symlink that leads out.
struct TreefileCatalog: Sendable {
    let folder: URL

    init(folder: URL) {
        self.folder = folder
    }

    private var realFolder: String { (folder.path as NSString).resolvingSymlinksInPath }

    /// The file a name stands for.
    func resolve(_ name: String) throws -> URL {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("\0"), !name.contains("\\"),
              components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw APIError.badRequest("bad_treefile_name",
                                      "\(name.debugDescription) is not a treefile name: give its path under the treefiles folder, like demo/demo.yaml")
        }
        guard Self.isTreefileName(name) else {
            throw APIError.badRequest("bad_treefile_name", "\(name): a treefile is a .yaml, .yml or .json file")
        }
        let file = folder.appendingPathComponent(name)
        let real = (file.path as NSString).resolvingSymlinksInPath
        guard real.hasPrefix(realFolder + "/") else {
            throw APIError.badRequest("bad_treefile_name", "\(name) leads outside the treefiles folder")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw APIError.notFound("no treefile \(name) in the treefiles folder")
        }
        return file
    }

    static func isTreefileName(_ name: String) -> Bool {
        [".yaml", ".yml", ".json"].contains { name.hasSuffix($0) }
    }

    /// Every file that may be a treefile, by name, sorted.
    func names() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var names: [String] = []
        while let path = walker.nextObject() as? String {
            if path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            if Self.isTreefileName(path), (try? resolve(path)) != nil { names.append(path) }
        }
        return names.sorted()
    }

    /// The treefile loaded (includes and all), for its ref. Blocks (file IO).
    func load(_ name: String) throws -> Treefile {
        let file = try resolve(name)
        do {
            return try TreefileLoader().load(file)
        } catch let error as ComposeError {
            throw APIError(.unprocessableContent, "bad_treefile", "\(name): \(error)")
        }
    }
}
