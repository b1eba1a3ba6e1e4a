import Foundation
import TreeforgeCore

/// `compose tree --dry-run --json`: the resolved transaction for machines.
enum TransactionJSON {
    struct Document: Encodable {
        struct Package: Encodable {
            let nevra, name, epoch, version, release, arch, repo: String
            let downloadSize, installSize: UInt64
        }
        struct Repo: Encodable {
            let id: String
            let revision: String?
            let packageCount: Int
        }
        let ref: String
        let packages: [Package]
        let repos: [Repo]
        let downloadSize, installSize: UInt64
    }

    static func encode(_ plan: ComposePlan) throws -> String {
        let set = plan.packages
        let document = Document(
            ref: plan.treefile.ref,
            packages: set.packages.sorted { $0.nevra < $1.nevra }.map {
                .init(nevra: $0.nevra, name: $0.name, epoch: $0.epoch, version: $0.version, release: $0.release,
                      arch: $0.arch, repo: $0.repository, downloadSize: $0.downloadSize, installSize: $0.installSize)
            },
            repos: set.repos.map { .init(id: $0.id, revision: $0.revision, packageCount: $0.packageCount) },
            downloadSize: set.downloadSize, installSize: set.installSize)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
