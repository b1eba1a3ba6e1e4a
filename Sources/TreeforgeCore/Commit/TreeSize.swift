import Foundation

/// How big a tree is: the bytes of its regular files (a file hardlinked in
/// several places counted once, as the repository stores it once) and how
/// many files and symlinks it has. For the build record and the ref page's
/// chart of tree size over time.
public struct TreeSize: Sendable, Equatable {
    public var bytes: Int64 = 0
    public var files: Int64 = 0

    public init(bytes: Int64 = 0, files: Int64 = 0) {
        self.bytes = bytes
        self.files = files
    }

    /// Walks `root` without following symlinks. lstat only: no file is read.
    public static func measure(_ root: URL) throws -> TreeSize {
        var size = TreeSize()
        var seen = Set<FileIdentity>()
        try walk(root.path, &size, &seen)
        return size
    }

    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private static func walk(_ path: String, _ size: inout TreeSize, _ seen: inout Set<FileIdentity>) throws {
        guard let directory = opendir(path) else {
            throw ComposeError(.commit, subject: path, "cannot read the folder to measure the tree: \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            let child = path + "/" + name
            var status = stat()
            guard lstat(child, &status) == 0 else {
                throw ComposeError(.commit, subject: child, "cannot stat the file to measure the tree: \(String(cString: strerror(errno)))")
            }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(child, &size, &seen)
            case S_IFREG:
                size.files += 1
                if status.st_nlink > 1, !seen.insert(FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))).inserted {
                    continue
                }
                size.bytes += Int64(status.st_size)
            default:
                size.files += 1
            }
        }
    }
}
