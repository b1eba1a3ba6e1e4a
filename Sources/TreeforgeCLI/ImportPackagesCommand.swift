import ArgumentParser
import Foundation
import TreeforgeCore

/// `treeforge internal import-packages --cachedir DIR RPM…`: imports
/// packages into the package cache and says what it did. For benchmarks and
/// for looking at the cache while composes do not use it yet.
struct ImportPackagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-packages")

    @Option(help: "The cache directory (the package cache is its pkgcache-repo).") var cachedir: String
    @Option(help: "Threads (default: one per core).") var workers: Int?
    @Argument var packages: [String]

    func run() throws {
        let cache = PackageCache(cachedir: URL(fileURLWithPath: cachedir))
        let start = Date()
        let imported = try cache.importPackages(packages.map { URL(fileURLWithPath: $0) },
                                                workers: workers ?? ProcessInfo.processInfo.activeProcessorCount)
        let seconds = Date().timeIntervalSince(start)
        let fresh = imported.filter(\.imported).count
        print("\(fresh) imported, \(imported.count - fresh) already cached, in \(String(format: "%.2f", seconds)) s (\(cache.repositoryURL.path))")
    }
}
