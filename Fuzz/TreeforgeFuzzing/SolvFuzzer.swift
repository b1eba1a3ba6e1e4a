import Foundation
import LibSolv

/// Fuzzes what the resolver does with a `.solv` cache's bytes once its check
/// passed (`RepositoryLoader`): `SolvRepository.addSolv(contents:)` into an
/// RPM pool — libsolv's own parser — then what the resolver reads of a
/// loaded repository: the repomd revision and entries, every package's
/// metadata and provides, the whatprovides index, a query.
///
/// libsolv is Debian's, not built with the sanitizers: memory errors inside
/// it show when they crash or reach an intercepted call (`strlen`, `memcpy`).
/// It crashes on damaged files (Tests/Fixtures/fuzz/libsolv-crashes/), which
/// is why `SolvCacheFile` checks a cache before libsolv sees it.
public enum SolvFuzzer {
    public static func fuzz(_ data: Data) {
        load(data)
    }

    static func load(_ contents: Data) {
        let pool: SolvPool
        do {
            pool = try SolvPool(architecture: "x86_64")
        } catch {
            fatalError("cannot create a libsolv pool: \(error)")
        }
        let repo = pool.addRepository(name: "fuzz")
        do {
            try repo.addSolv(contents: contents)
        } catch is SolvError {
            // RepositoryLoader then parses the XML into this same repository,
            // so a rejected cache must leave it empty.
            precondition(repo.packageCount == 0 && pool.allPackages.isEmpty,
                         "a rejected .solv file left \(repo.packageCount) packages in the repository")
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
