import Foundation
import LibSolv

/// Depsolves a treefile's packages against its repositories with libsolv,
/// following dnf's choices: newest versions, weak dependencies installed,
/// an obsoleted package asked for by name replaced by its obsoleter.
public struct Resolver: Sendable {
    public var basearch: String
    /// Where parsed repositories are cached as `.solv` files; nil: no cache.
    public var cachedir: URL?

    public init(basearch: String = Resolver.hostArchitecture, cachedir: URL? = nil) {
        self.basearch = basearch
        self.cachedir = cachedir
    }

    public static var hostArchitecture: String {
        var info = utsname()
        uname(&info)
        return withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    public func resolve(_ treefile: Treefile) throws -> ResolvedSet {
        let definitions = try RepoFileReader(basearch: basearch, releasever: treefile.releasever)
            .definitions(in: treefile.directory)
        let pool: SolvPool
        do {
            pool = try SolvPool(architecture: basearch)
        } catch {
            throw ComposeError(.resolve, "\(error)")
        }
        var states: [RepoState] = []
        var bases: [String: URL] = [:]
        // Without `repos`, every enabled repository of the folder's .repo files (as rpm-ostree does).
        let ids = treefile.repos.isEmpty ? definitions.values.filter(\.enabled).map(\.id).sorted() : treefile.repos
        if ids.isEmpty {
            throw ComposeError(.resolve, subject: treefile.path.path,
                               "no repositories: the treefile names no `repos` and no enabled repository is defined in \(treefile.directory.path)/*.repo")
        }
        for id in ids {
            guard let definition = definitions[id] else {
                let known = definitions.keys.sorted().joined(separator: ", ")
                throw ComposeError(.resolve, subject: "repo \(id)",
                                   "no `.repo` file in \(treefile.directory.path) defines this repository"
                                   + (known.isEmpty ? " (no .repo files there)" : " (defined: \(known))"))
            }
            let loaded = try RepositoryLoader(pool: pool, cachedir: cachedir).load(definition)
            states.append(loaded)
            bases[id] = definition.baseURL
        }
        pool.prepareForSolving()

        var request = SolveRequest()
        request.installWeakDependencies = treefile.config.recommends
        var unknown: [String] = []
        for spec in treefile.packages {
            var candidates = pool.packages(matching: spec)
            if candidates.isEmpty {
                unknown.append(spec)
                continue
            }
            if pool.nameMatches(spec) {
                candidates += pool.obsoleters(of: candidates)
            }
            request.installOneOf.append(candidates)
        }
        if !unknown.isEmpty {
            let list = unknown.map { "`\($0)`" }.joined(separator: ", ")
            throw ComposeError(.resolve, subject: treefile.path.path,
                               "no package in repos \(ids.joined(separator: ", ")) matches \(list)")
        }

        switch pool.solve(request) {
        case .problems(let problems):
            throw ComposeError(.resolve, subject: treefile.path.path,
                               "the packages cannot be installed together (\(problems.count) problem\(problems.count == 1 ? "" : "s"))",
                               details: problems.map(\.description))
        case .solved(let ids):
            let packages = ids.map { id -> ResolvedPackage in
                let info = pool.package(id)
                let path = bases[info.repository]!.appendingPathComponent(info.location).path
                return ResolvedPackage(info: info, path: path)
            }
            return ResolvedSet(packages: packages, repos: states)
        }
    }
}
