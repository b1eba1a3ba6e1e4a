import Foundation
import TreeforgeCore

/// Fuzzes `TreefileLoader.load` on YAML and JSON treefiles, then everything
/// the pipeline reads of a loaded treefile (`--print-only`, the input hash's
/// canonical JSON, the composability check, the typed keys).
///
/// Input: a selector byte, then the treefile, then (after a NUL byte) a file
/// it may include as `include.yaml` or `include.json`. The selector's low bit
/// names the treefile `treefile.yaml` or `treefile.json`, so both format
/// paths are reached from one corpus.
public enum TreefileFuzzer {
    public static func fuzz(_ data: Data) {
        guard let selector = data.first else { return }
        let parts = FuzzInput.parts(data.dropFirst(), count: 2)
        _ = Neighbours.written
        let treefile = FuzzScratch.write(parts[0], to: selector & 1 == 0 ? "treefile.yaml" : "treefile.json")
        FuzzScratch.write(parts[1], to: "include.yaml")
        FuzzScratch.write(parts[1], to: "include.json")
        // The other name must not linger from an earlier input, or an input
        // that includes it would not replay alone.
        defer { try? FileManager.default.removeItem(at: treefile) }

        let loader = TreefileLoader(basearch: "x86_64", variables: ["stream": .string("stable")])
        let loaded: Treefile
        do {
            loaded = try loader.load(treefile)
        } catch is ComposeError {
            return
        } catch {
            FuzzFinding.unexpected(error, from: "TreefileLoader.load")
        }
        readEverything(loaded)
    }

    private static func readEverything(_ treefile: Treefile) {
        _ = treefile.printed
        _ = treefile.config.canonicalJSON
        _ = try? treefile.checkComposable()
        let config = treefile.config
        _ = (config.ref, config.releasever, config.edition, config.metadata, config.addCommitMetadata, config.rojig)
        _ = (config.repoPackages, config.addFiles, config.removeFromPackages, config.checkPasswd, config.checkGroups)
        _ = (config.repovars, config.selinuxLabelVersion, config.units, config.repos)
        // The resolver takes every spec for a package to find.
        let specs = config.packages + config.repoPackages.flatMap(\.packages)
        precondition(!specs.contains(""), "an empty package spec was loaded")
        for file in treefile.externalFiles { _ = treefile.externalFile(file.key, file.name) }
    }

    /// The files a treefile may name beside it (`postprocess-script`,
    /// `add-files`, `check-passwd`), written once per process.
    enum Neighbours {
        static let written: Void = {
            FuzzScratch.write(Data("#!/bin/sh\ntrue\n".utf8), to: "postprocess.sh")
            FuzzScratch.write(Data("root:x:0:0:root:/root:/bin/bash\n".utf8), to: "passwd")
            FuzzScratch.write(Data("root:x:0:\n".utf8), to: "group")
            FuzzScratch.write(Data("hello\n".utf8), to: "banner.txt")
            try? FileManager.default.createDirectory(at: FuzzScratch.folder.appendingPathComponent("subdir"),
                                                     withIntermediateDirectories: true)
        }()
    }
}
