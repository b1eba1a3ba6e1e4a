import Foundation

/// The postprocess log a compose keeps in its workdir: postprocess scripts,
/// depmod and dracut append to it, and an error quotes its end.
enum PostprocessLog {
    /// `file` opened for appending, created when missing.
    static func append(_ file: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: file.path) {
            FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: file)
        handle.seekToEndOfFile()
        return handle
    }

    /// Its last lines, for an error's details.
    static func tail(_ file: URL, lines: Int = 20) -> [String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return Array(text.split(separator: "\n").suffix(lines).map(String.init))
    }
}
