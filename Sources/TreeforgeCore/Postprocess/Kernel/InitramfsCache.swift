import Foundation
import LibSolv

/// What a `--no-hostonly` dracut run depends on, in two parts.
///
/// The *probe*: what decides which files dracut takes — the kernel version
/// and the arguments; dracut itself and its configuration (all of
/// `/usr/lib/dracut`, `/usr/bin/dracut`, `/etc/dracut.conf` and
/// `/etc/dracut.conf.d`, by content); the kernel's modules (every name and
/// size, the `modules.*` indexes by content); and the names, types and link
/// targets under the folders dracut's modules probe for programs and
/// configuration (`/usr/bin`, `/usr/sbin`, `/usr/lib/systemd`,
/// `/usr/lib/udev`, `/etc`).
///
/// The *included* files: every file the image took from the tree, by
/// content (or link target). A package update that changes none of these —
/// a new file under `/usr/share`, a program dracut does not copy — leaves
/// the initramfs as it was.
enum InitramfsInputs {
    static let probedFolders = ["usr/bin", "usr/sbin", "usr/lib/systemd", "usr/lib/udev", "etc"]
    static let dracutFiles = ["usr/lib/dracut", "usr/bin/dracut", "etc/dracut.conf", "etc/dracut.conf.d"]

    static func probe(root: RootDirectory, kernel: InstalledKernel, arguments: [String]) throws -> String {
        var lines = ["initramfs-inputs 1", "kernel \(kernel.version)", "arguments " + arguments.joined(separator: "\u{1f}")]
        for path in dracutFiles {
            try walk(path, in: root) { relative, status in
                lines.append(try describe(relative, status, in: root, content: true))
            }
        }
        try walk(kernel.modulesFolder, in: root) { relative, status in
            let name = relative.split(separator: "/").last.map(String.init) ?? ""
            // The image is the output; the rest by name and size, the indexes by content.
            guard name != "initramfs.img" else { return }
            lines.append(name.hasPrefix("modules.") ? try describe(relative, status, in: root, content: true)
                                                    : "\(relative) \(status.st_mode & S_IFMT) \(status.st_size)")
        }
        for path in probedFolders {
            try walk(path, in: root) { relative, status in
                lines.append(try describe(relative, status, in: root, content: false))
            }
        }
        return Checksum.sha256.hex(of: Data(lines.joined(separator: "\n").utf8))
    }

    /// The tree files dracut staged (`--keep`): path → content checksum (or
    /// link target). What dracut made itself (not in the tree) is left out:
    /// it follows from the probe.
    static func included(staged: URL, root: RootDirectory) throws -> [String: String] {
        var included: [String: String] = [:]
        let stagedRoot = RootDirectory(staged)
        try walk("", in: stagedRoot) { relative, status in
            let kind = status.st_mode & S_IFMT
            guard kind == S_IFREG || kind == S_IFLNK, let tree = root.status(relative), tree.st_mode & S_IFMT == kind else { return }
            included[relative] = try fingerprint(relative, tree, in: root)
        }
        return included
    }

    /// Each entry under `relative` (itself included), sorted, symlinks not followed.
    static func walk(_ relative: String, in root: RootDirectory, _ body: (String, stat) throws -> Void) throws {
        if !relative.isEmpty {
            guard let status = root.status(relative) else { return }
            try body(relative, status)
            guard status.st_mode & S_IFMT == S_IFDIR else { return }
        }
        try root.walk(relative, body)
    }

    private static func describe(_ relative: String, _ status: stat, in root: RootDirectory, content: Bool) throws -> String {
        let kind = status.st_mode & S_IFMT
        var line = "\(relative) \(kind) \(status.st_mode & 0o7777)"
        if kind == S_IFLNK || (content && kind == S_IFREG) { line += " " + (try fingerprint(relative, status, in: root)) }
        return line
    }

    static func fingerprint(_ relative: String, _ status: stat, in root: RootDirectory) throws -> String {
        if status.st_mode & S_IFMT == S_IFLNK { return "-> " + (try root.symlinkTarget(relative)) }
        do {
            return try Checksum.sha256.hex(ofFileAt: try root.path(relative))
        } catch {
            throw ComposeError(.postprocess, subject: "/" + relative, "cannot read it to check the initramfs's inputs: \(error)")
        }
    }
}

/// Initramfs images kept for reuse under `<cachedir>/initramfs/`, one folder
/// per probe: the image, its checksum and the checksums of the tree files it
/// includes. An entry whose image no longer matches its checksum is damage:
/// it is dropped and dracut runs again.
public struct InitramfsCache: Sendable {
    public var folder: URL

    public init(folder: URL) { self.folder = folder }

    struct Entry: Codable {
        var image: String
        var included: [String: String]
    }

    private func entryFolder(_ probe: String) -> URL { folder.appendingPathComponent(probe) }

    /// Copies the cached image to `destination` when the probe and every
    /// included file match; the image's checksum, or nil.
    func reuse(probe: String, root: RootDirectory, into destination: String, events: ComposeEventSink) throws -> String? {
        let entryFolder = entryFolder(probe)
        guard let data = FileManager.default.contents(atPath: entryFolder.appendingPathComponent("entry.json").path),
              let entry = try? JSONDecoder().decode(Entry.self, from: data) else { return nil }
        for (path, fingerprint) in entry.included {
            guard let status = root.status(path), (try? InitramfsInputs.fingerprint(path, status, in: root)) == fingerprint else { return nil }
        }
        let cached = entryFolder.appendingPathComponent("initramfs.img").path
        guard (try? Checksum.sha256.hex(ofFileAt: cached)) == entry.image else {
            events.warning("the cached initramfs in \(entryFolder.path) is damaged: it is built again")
            try? FileManager.default.removeItem(at: entryFolder)
            return nil
        }
        try? FileManager.default.removeItem(atPath: destination)
        do {
            try FileManager.default.copyItem(atPath: cached, toPath: destination)
        } catch {
            throw ComposeError(.postprocess, subject: destination, "cannot copy the cached initramfs into the tree: \(error.localizedDescription)")
        }
        chmod(destination, 0o644)
        return String(entry.image.prefix(12))
    }

    /// Keeps the image just built for the next compose. A cache that cannot
    /// be written costs the next compose a dracut run, nothing more.
    func store(probe: String, included: [String: String], image: String, events: ComposeEventSink) throws {
        let entryFolder = entryFolder(probe)
        let temporary = folder.appendingPathComponent(".\(probe).\(getpid()).tmp")
        do {
            try? FileManager.default.removeItem(at: temporary)
            try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: image, toPath: temporary.appendingPathComponent("initramfs.img").path)
            let entry = Entry(image: try Checksum.sha256.hex(ofFileAt: image), included: included)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try encoder.encode(entry).write(to: temporary.appendingPathComponent("entry.json"))
            try? FileManager.default.removeItem(at: entryFolder)
            guard rename(temporary.path, entryFolder.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            events.warning("cannot keep the initramfs in \(folder.path) for reuse (\(error.localizedDescription)): the next compose runs dracut again")
        }
    }
}
