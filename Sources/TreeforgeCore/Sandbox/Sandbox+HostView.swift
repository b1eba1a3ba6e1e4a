import Foundation

extension Sandbox {
    /// What of the host a confined host command (shape a, the rpm child) sees:
    /// only what it needs to run. A scriptlet that escapes librpm's chroot
    /// (it holds cap_sys_chroot, and the fresh /proc inside the root leads
    /// back out) lands here, so nothing else is shown: no /etc beyond the
    /// loader's cache, no /root, /home, /var, /opt or /work.
    public struct HostView: Sendable, Equatable {
        /// Host paths bound read-only at their own paths.
        public var readOnly: [String]
        /// Top-level links recreated as on the host (merged /usr: /bin -> usr/bin).
        public var links: [Link]

        public struct Link: Sendable, Equatable {
            public var path: String
            public var target: String
            public init(path: String, target: String) {
                self.path = path
                self.target = target
            }
        }

        public init(readOnly: [String], links: [Link]) {
            self.readOnly = readOnly
            self.links = links
        }

        /// The toplevel folders programs and the loader look in besides /usr.
        static let toplevelFolders = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]
        /// Host files read outside the root: the loader's cache.
        static let hostFiles = ["/etc/ld.so.cache", "/etc/rpm"]

        /// The view for running `executable` here: /usr, the toplevel folders
        /// (links where the host has links), the loader's cache, the
        /// executable, and the folders outside /usr of the shared libraries
        /// mapped into this process, which is the same executable (the rpm
        /// child is treeforge) or, in tests, one linked against the same.
        public static func forRunning(_ executable: String) -> HostView {
            let files = FileManager.default
            var readOnly = ["/usr"]
            var links: [Link] = []
            for name in toplevelFolders {
                let path = "/" + name
                if let target = try? files.destinationOfSymbolicLink(atPath: path) {
                    links.append(Link(path: path, target: target))
                } else if files.fileExists(atPath: path) {
                    readOnly.append(path)
                }
            }
            readOnly += hostFiles.filter { files.fileExists(atPath: $0) }
            let ownExecutable = (try? files.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
            // Read to the end: procfs reports size 0, and Data(contentsOf:)
            // stops after its first read (one page of maps).
            let maps = FileHandle(forReadingAtPath: "/proc/self/maps")
            let mapped = ((try? maps?.readToEnd()) ?? nil).map { String(decoding: $0, as: UTF8.self) } ?? ""
            try? maps?.close()
            let executablePath = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
            for path in [executablePath] + libraryFolders(inMaps: mapped, except: ownExecutable)
            where !readOnly.contains(where: { covers($0, path) }) {
                readOnly.append(path)
            }
            return HostView(readOnly: readOnly, links: links)
        }

        /// The folders of the executable mappings in a /proc/PID/maps text
        /// (shared libraries, the loader), without `except` (the process's own
        /// executable, which `forRunning` binds by itself).
        static func libraryFolders(inMaps maps: String, except: String) -> [String] {
            var folders: [String] = []
            for line in maps.split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                guard fields.count == 6, fields[1].contains("x") else { continue }
                let path = fields[5].trimmingCharacters(in: .whitespaces)
                guard path.hasPrefix("/"), path != except, !path.hasSuffix(" (deleted)") else { continue }
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
                if !folders.contains(folder) { folders.append(folder) }
            }
            return folders
        }

        /// Whether binding `folder` already shows `path`.
        static func covers(_ folder: String, _ path: String) -> Bool {
            path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
        }

        /// bwrap options building this view.
        var mounts: [String] {
            readOnly.flatMap { ["--ro-bind", $0, $0] } + links.flatMap { ["--symlink", $0.target, $0.path] }
        }
    }
}
