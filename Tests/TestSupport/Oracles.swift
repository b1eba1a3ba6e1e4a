import Foundation

/// The stock tools' answers, which treeforge's results are checked against.
public enum Oracle {
    /// The packages dnf would install for the request on a repository, as
    /// sorted NEVRAs (weak dependencies on by default, as dnf's own default).
    public static func dnfResolve(_ packages: [String], repository: URL, weakDependencies: Bool = true) throws -> [String] {
        let scratch = try TemporaryDirectory("dnf")
        let result = try Command.run([
            "dnf", "--installroot=\(scratch.url.path)", "--setopt=reposdir=/nonexistent",
            "--setopt=cachedir=\(scratch.url.path)/cache", "--repofrompath=fx,file://\(repository.path)",
            "--repo=fx", "--releasever=1", "--nogpgcheck", "--setopt=install_weak_deps=\(weakDependencies ? "True" : "False")",
            "--assumeno", "install",
        ] + packages)
        // --assumeno makes dnf exit 1 ("Operation aborted"); read its table.
        var nevras: [String] = []
        var inTable = false
        var wrapped: [Substring] = []
        for line in result.stdout.split(separator: "\n") {
            if line.hasPrefix("Installing") { inTable = true; continue }
            if line.hasPrefix("Transaction Summary") { break }
            guard inTable else { continue }
            // A name too long for its column stands alone on its line.
            let fields = wrapped + line.split(separator: " ")
            if fields.count == 1 { wrapped = fields; continue }
            wrapped = []
            // " name  arch  [epoch:]version-release  repo  size unit"
            guard fields.count >= 4, !line.hasPrefix("Installing") else { continue }
            let evr = String(fields[2])
            let trimmed = evr.hasPrefix("0:") ? String(evr.dropFirst(2)) : evr
            nevras.append("\(fields[0])-\(trimmed).\(fields[1])")
        }
        guard !nevras.isEmpty else {
            throw FixtureError("dnf chose nothing: \(result.stdout)\n\(result.stderr)")
        }
        return nevras.sorted()
    }

    /// `rpm -qa` on a tree's rpmdb (where rpm-ostree keeps it), sorted.
    public static func rpmQueryAll(root: URL, databasePath: String = "/usr/share/rpm") throws -> [String] {
        try Command.check(["rpm", "--root", root.path, "--dbpath", databasePath, "-qa",
                           "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n"])
            .split(separator: "\n").map(String.init).sorted()
    }

    @discardableResult
    public static func ostree(_ repo: URL, _ arguments: [String]) throws -> String {
        try Command.check(["ostree", "--repo=\(repo.path)"] + arguments)
    }

    /// The commit a ref points to, or nil.
    public static func ostreeRev(_ repo: URL, _ ref: String) throws -> String? {
        let result = try Command.run(["ostree", "--repo=\(repo.path)", "rev-parse", ref])
        return result.status == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}
