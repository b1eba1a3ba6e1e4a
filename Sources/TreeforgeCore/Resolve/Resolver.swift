import Foundation
import LibSolv

/// Depsolves a treefile's packages against its repositories with libsolv,
/// following dnf's choices: newest versions, weak dependencies unless
/// `recommends: false`, an obsoleted package asked for by name replaced by
/// its obsoleter, repository priorities and costs, excludes.
///
/// Loads primary metadata only, and file lists only when needed: when a
/// path asked for matches nothing, or the solve fails while some required
/// path is missing from primary.xml (which lists only /etc and *bin/ files).
public struct Resolver: Sendable {
    public var basearch: String
    public var access: RepositoryAccess
    /// rpm-ostree lockfiles: locked names resolve to the locked version only.
    public var lockfile: Lockfile?
    /// With a lockfile: nothing that is not locked may be installed.
    public var lockfileStrict = false

    public init(basearch: String = Resolver.hostArchitecture, access: RepositoryAccess = RepositoryAccess()) {
        self.basearch = basearch
        self.access = access
    }

    public init(basearch: String = Resolver.hostArchitecture, cachedir: URL?) {
        self.init(basearch: basearch, access: RepositoryAccess(cachedir: cachedir))
    }

    public static var hostArchitecture: String {
        var info = utsname()
        uname(&info)
        return withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// `events` hears what does not stop the resolve (a damaged metadata
    /// cache file discarded) as warnings.
    public func resolve(_ treefile: Treefile, events: ComposeEventSink = SilentEvents()) throws -> ResolvedSet {
        try withSession(treefile, events: events) { try $0.solve() }
    }

    /// Loads the repositories and builds the request, first from primary
    /// metadata alone, again with file lists when the session says so.
    func withSession<T>(_ treefile: Treefile, events: ComposeEventSink = SilentEvents(),
                        _ body: (ResolveSession) throws -> T) throws -> T {
        let repos = try repositories(for: treefile)
        do {
            return try body(try session(treefile, repos: repos, withFilelists: false, events: events))
        } catch is PackageSelection.NeedsFilelists {
            return try body(try session(treefile, repos: repos, withFilelists: true, events: events))
        }
    }

    /// The treefile's `repos` (every enabled one when it names none), and
    /// `lockfile-repos` when a lockfile is given.
    func repositories(for treefile: Treefile) throws -> [(RepoDefinition, lockedOnly: Bool)] {
        let definitions = try RepoFileReader(basearch: basearch, releasever: treefile.releasever)
            .definitions(in: treefile.directory)
        func definition(_ id: String) throws -> RepoDefinition {
            guard let found = definitions[id] else {
                let known = definitions.keys.sorted().joined(separator: ", ")
                throw ComposeError(.resolve, subject: "repo \(id)",
                                   "no `.repo` file in \(treefile.directory.path) defines this repository"
                                   + (known.isEmpty ? " (no .repo files there)" : " (defined: \(known))"))
            }
            return found
        }
        let ids = treefile.repos.isEmpty ? definitions.values.filter(\.enabled).map(\.id).sorted() : treefile.repos
        if ids.isEmpty {
            throw ComposeError(.resolve, subject: treefile.path.path,
                               "no repositories: the treefile names no `repos` and no enabled repository is defined in \(treefile.directory.path)/*.repo")
        }
        var repos = try ids.map { (try definition($0), lockedOnly: false) }
        if lockfile != nil {
            repos += try treefile.config.lockfileRepos.filter { !ids.contains($0) }.map { (try definition($0), lockedOnly: true) }
        }
        return repos
    }

    private func session(_ treefile: Treefile, repos: [(RepoDefinition, lockedOnly: Bool)], withFilelists: Bool,
                         events: ComposeEventSink) throws -> ResolveSession {
        let pool: SolvPool
        do {
            pool = try SolvPool(architecture: basearch)
        } catch {
            throw ComposeError(.resolve, "\(error)")
        }
        var loader = RepositoryLoader(pool: pool, access: access, solvCache: access.cachedir?.appendingPathComponent("solv"))
        loader.warn = { events.warning($0) }
        var states: [RepoState] = []
        for (definition, _) in repos {
            states.append(try loader.load(definition, withFilelists: withFilelists))
        }
        let byID = Dictionary(uniqueKeysWithValues: repos.map { ($0.0.id, $0) })
        var selection = PackageSelection(pool: pool, treefile: treefile, repos: byID, lockfile: lockfile, strict: lockfileStrict)
        try selection.applyExcludes()
        let unprovided = pool.prepareForSolving()
        let request = try selection.jobs(filelistsLoaded: withFilelists)
        return ResolveSession(pool: pool, treefile: treefile, access: access, repos: byID.mapValues(\.0), states: states,
                              selection: selection, request: request,
                              incomplete: !withFilelists && !unprovided.isEmpty)
    }
}

/// One loaded pool and the request built on it.
struct ResolveSession {
    let pool: SolvPool
    let treefile: Treefile
    let access: RepositoryAccess
    let repos: [String: RepoDefinition]
    let states: [RepoState]
    let selection: PackageSelection
    let request: SolveRequest
    /// File lists are not loaded and some required path is missing from primary.xml.
    let incomplete: Bool

    func solve() throws -> ResolvedSet {
        switch pool.solve(request) {
        case .problems where incomplete:
            // Some required path is not in primary.xml: retry with the file lists.
            throw PackageSelection.NeedsFilelists()
        case .problems(let problems):
            let details = problems.map(\.description)
            throw ComposeError(.resolve, subject: treefile.path.path,
                               "the packages cannot be installed together (\(problems.count) problem\(problems.count == 1 ? "" : "s"))",
                               details: details + selection.excludes(mentionedIn: details))
        case .solved(let ids):
            let packages = ids.map { id -> ResolvedPackage in
                let info = pool.package(id)
                let definition = repos[info.repository]!
                return ResolvedPackage(info: info, path: access.localPath(info.location, of: definition).path,
                                       url: access.remoteURL(info.location, of: definition)?.absoluteString)
            }
            return ResolvedSet(packages: packages, repos: states)
        }
    }
}
