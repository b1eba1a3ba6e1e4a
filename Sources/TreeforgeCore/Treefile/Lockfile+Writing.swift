import Foundation

extension Lockfile {
    /// rpm-ostree's lockfile for a resolved set (`--ex-write-lockfile-to`):
    /// each package's evra and digest, its source RPM, and when each
    /// repository's metadata was generated. Written atomically.
    public static func write(_ set: ResolvedSet, to file: URL, now: Date = Date()) throws {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).tmp")
        try Data(text(set, now: now).utf8).write(to: temporary)
        guard rename(temporary.path, file.path) == 0 else {
            throw ComposeError(.resolve, subject: file.path, "cannot write the lockfile: \(String(cString: strerror(errno)))")
        }
    }

    /// The lockfile's text, as `write` writes it.
    public static func text(_ set: ResolvedSet, now: Date = Date()) -> String {
        let packages: [(String, JSONValue)] = set.packages.sorted { $0.name < $1.name }.map { package in
            let evr = package.epoch.isEmpty || package.epoch == "0"
                ? "\(package.version)-\(package.release)" : "\(package.epoch):\(package.version)-\(package.release)"
            var fields: [(String, JSONValue)] = [("evra", .string("\(evr).\(package.arch)"))]
            if let type = package.checksumType, let checksum = package.checksum {
                fields.append(("digest", .string("\(type):\(checksum)")))
            }
            if let source = package.sourceRPM {
                fields.append(("metadata", .object([("sourcerpm", .string(source))])))
            }
            return (package.name, .object(fields))
        }
        let repos: [(String, JSONValue)] = set.repos.sorted { $0.id < $1.id }.map { repo in
            let generated = repo.revision.flatMap(TimeInterval.init).map { Date(timeIntervalSince1970: $0) } ?? now
            return (repo.id, .object([("generated", .string(timestamp(generated)))]))
        }
        let document = JSONValue.object([
            ("packages", .object(packages)),
            ("metadata", .object([("generated", .string(day(now))), ("rpmmd_repos", .object(repos))])),
        ])
        return document.prettyString + "\n"
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Today at midnight UTC, as rpm-ostree stamps a lockfile.
    private static func day(_ date: Date) -> String {
        String(timestamp(date).prefix(10)) + "T00:00:00Z"
    }
}
