import Foundation
import LibSolv

/// Fuzzes loading a `.solv` cache file as the resolver does
/// (`RepositoryLoader`): `SolvRepository.addSolv` into an RPM pool — libsolv's
/// own parser — then what the resolver reads of a loaded repository: the
/// repomd revision and entries, every package's metadata and provides, the
/// whatprovides index, a query.
///
/// The cache holds nothing treeforge parses itself: the bytes go straight
/// from the file to libsolv, so this target is libsolv's parser as treeforge
/// drives it. libsolv is not built with the sanitizers (it is Debian's), so
/// memory errors inside it show only when they crash.
public enum SolvFuzzer {
    public static func fuzz(_ data: Data) {
        let file = FuzzScratch.write(data, to: "cache.solv")
        let pool: SolvPool
        do {
            pool = try SolvPool(architecture: "x86_64")
        } catch {
            fatalError("cannot create a libsolv pool: \(error)")
        }
        let repo = pool.addRepository(name: "fuzz")
        do {
            try repo.addSolv(path: file.path)
        } catch is SolvError {
            // RepositoryLoader then parses the XML into this same repository,
            // so a rejected cache must leave it empty.
            precondition(repo.packageCount == 0, "a rejected .solv file left \(repo.packageCount) packages in the repository")
            return
        } catch {
            fatalError("SolvRepository.addSolv threw \(type(of: error)), not a SolvError: \(error)")
        }
        _ = repo.revision
        _ = (repo.repomdEntry("primary"), repo.repomdEntry("filelists"))
        for id in pool.allPackages {
            let info = pool.package(id)
            _ = (info.nevra, pool.provideNames(id))
        }
        _ = pool.prepareForSolving()
        _ = pool.packages(matching: "fixture-app")
    }
}
