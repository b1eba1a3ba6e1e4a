import Foundation

/// The project's RPM fixtures (Tests/Fixtures/specs), built with rpmbuild and
/// indexed with createrepo_c by scripts/build-rpm-repo. The script caches by
/// a hash of its inputs and locks against concurrent builds, so every test
/// can ask for the repository; only the first pays for it.
public enum Fixtures {
    /// The package's top folder.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// Where a test keeps what a person looks at after the run (screenshots,
    /// console logs): `TREEFORGE_TEST_ARTIFACTS/<name>`, by default
    /// `.build/test-artifacts/<name>` in the package. Emptied first.
    public static func artifacts(_ name: String) throws -> URL {
        let base = ProcessInfo.processInfo.environment["TREEFORGE_TEST_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? packageRoot.appendingPathComponent(".build/test-artifacts")
        let folder = base.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The fixture rpm-md repository (built when missing or out of date).
    public static func repository() throws -> URL {
        let output = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("treeforge-test-fixtures/rpms")
        try buildRepository(specs: packageRoot.appendingPathComponent("Tests/Fixtures/specs"), into: output)
        return output
    }

    public static func buildRepository(specs: URL, into output: URL) throws {
        let result = try Command.run([packageRoot.appendingPathComponent("scripts/build-rpm-repo").path, specs.path, output.path])
        guard result.status == 0 else {
            throw FixtureError("build-rpm-repo failed: \(result.stderr)")
        }
    }

    /// The request the fixtures are designed around, and dnf's answer to it
    /// (Tests/Fixtures/README.md).
    public static let defaultRequest = ["fixture-app", "fixture-oldtool"]
    public static let defaultSet = [
        "fixture-app-1.0-1.noarch",
        "fixture-editor-a-1.0-1.noarch",
        "fixture-extras-1.0-1.noarch",
        "fixture-filesystem-1.0-1.noarch",
        "fixture-lib-2.0-1.noarch",
        "fixture-mta-1.0-1.noarch",
        "fixture-newtool-2.0-1.noarch",
        "fixture-sh-1.0-1.x86_64",
    ]

    /// The treeforge executable built beside the test bundle.
    public static var treeforgeExecutable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("treeforge")
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A folder that exists for one test.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init(_ label: String = "test") throws {
        var template = Array((NSTemporaryDirectory() + "/treeforge-\(label)-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw FixtureError("mkdtemp failed") }
        url = URL(fileURLWithPath: String(cString: template))
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func path(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    @discardableResult
    public func write(_ relative: String, _ text: String) throws -> URL {
        let file = path(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// Writes a treefile and its `.repo` file into a folder, asking for
/// `packages` from `repository`; `repoOptions` are the `.repo` section's
/// further lines.
public enum FixtureTreefile {
    @discardableResult
    public static func write(packages: [String], ref: String = "fixture/x86_64/test", repository: URL,
                             repoID: String = "fixtures", repoOptions: String = "gpgcheck=0", extra: String = "",
                             in folder: URL) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
            [\(repoID)]
            name=treeforge test fixtures
            baseurl=file://\(repository.path)
            \(repoOptions)

            """.write(to: folder.appendingPathComponent("fixtures.repo"), atomically: true, encoding: .utf8)
        // rpm-ostree splits entries on whitespace; quotes keep a query whole.
        let list = packages.map { $0.contains(" ") ? "  - \"'\($0)'\"" : "  - \($0)" }.joined(separator: "\n")
        let treefile = folder.appendingPathComponent("treefile.yaml")
        try """
            ref: \(ref)
            repos:
              - \(repoID)
            packages:
            \(list)
            \(extra)
            """.write(to: treefile, atomically: true, encoding: .utf8)
        return treefile
    }
}
