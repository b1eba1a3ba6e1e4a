import Foundation
import TreeforgeCore

/// Fuzzes `Lockfile.load` on two lockfiles merged in order (an input's parts
/// are separated by a NUL byte), JSON or YAML by the selector byte's bits.
public enum LockfileFuzzer {
    public static func fuzz(_ data: Data) {
        guard let selector = data.first else { return }
        let parts = FuzzInput.parts(data.dropFirst(), count: 2)
        let files = parts.enumerated().map { index, bytes in
            let format = (selector >> index) & 1 == 0 ? "json" : "yaml"
            return FuzzScratch.write(bytes, to: "lockfile-\(index).\(format)")
        }
        defer { for file in files { try? FileManager.default.removeItem(at: file) } }
        let lockfile: Lockfile
        do {
            lockfile = try Lockfile.load(files)
        } catch is ComposeError {
            return
        } catch {
            FuzzFinding.unexpected(error, from: "Lockfile.load")
        }
        for (name, package) in lockfile.packages {
            _ = (name, package.version, package.digest, package.metadata?.canonicalString)
        }
    }
}
