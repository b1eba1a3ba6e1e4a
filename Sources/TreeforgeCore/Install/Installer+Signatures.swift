import Foundation

extension Installer {
    /// The plan's packages, each with its repository's key files when the
    /// repository asks for signature checks; the rpm child checks them.
    static func planPackages(_ set: ResolvedSet) throws -> [InstallPlan.Package] {
        let repos = Dictionary(set.repos.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Sorted: rpm orders a dependency loop (dmsetup and libdevmapper, say) by
        // the order packages were added, and libsolv's order follows how the
        // metadata was loaded (XML or a cached .solv). The rpmdb, and so the
        // commit, must not depend on that.
        return try set.packages.sorted { $0.nevra < $1.nevra }.map { package in
            var planned = InstallPlan.Package(path: package.path, nevra: package.nevra, repository: package.repository)
            if let repo = repos[package.repository], repo.gpgcheck {
                guard !repo.gpgkeys.isEmpty else {
                    throw ComposeError(.install, subject: "repo \(repo.id)",
                                       "the repository asks for signature checks (gpgcheck=1) but names no key to check \(package.nevra) against: add gpgkey= to its .repo file")
                }
                planned.signatureKeys = repo.gpgkeys
            }
            return planned
        }
    }
}
