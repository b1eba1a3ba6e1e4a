import Foundation

/// The folder a fuzz target writes its inputs into: the parsers under test
/// read files, not bytes. One fixed folder per process, so an input costs a
/// file write and no directory churn, and two fuzzers never share files.
enum FuzzScratch {
    /// In memory when the machine has /dev/shm: every input is a file write,
    /// and on a disk-backed /tmp that made the fuzzers about 15 times slower.
    static let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()

    static let folder: URL = {
        let url = URL(fileURLWithPath: base).appendingPathComponent("treeforge-fuzz-\(getpid())", isDirectory: true)
        removeLeftovers()
        try? FileManager.default.removeItem(at: url)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the fuzz scratch folder \(url.path): \(error)")
        }
        // libFuzzer ends the process with exit(); the folder goes with it.
        atexit {
            try? FileManager.default.removeItem(atPath: "\(FuzzScratch.base)/treeforge-fuzz-\(getpid())")
        }
        return url
    }()

    /// A crashing input kills its process before `atexit` runs, and libFuzzer
    /// in fork mode crashes often: folders of processes gone are removed
    /// (they are in memory when under /dev/shm).
    private static func removeLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for name in names where name.hasPrefix("treeforge-fuzz-") {
            guard let pid = pid_t(name.dropFirst("treeforge-fuzz-".count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: "\(base)/\(name)")
        }
    }

    /// Writes `bytes` to `name` in the folder, replacing what was there.
    @discardableResult
    static func write(_ bytes: some DataProtocol, to name: String) -> URL {
        let url = folder.appendingPathComponent(name)
        do {
            try Data(bytes).write(to: url)
        } catch {
            fatalError("cannot write the fuzz input \(url.path): \(error)")
        }
        return url
    }
}

/// Fuzz inputs that are several files: the parts are separated by NUL bytes,
/// which none of the formats fuzzed here allows inside a file, so a mutation
/// that adds or removes one reshapes the files rather than one file's text.
enum FuzzInput {
    static func parts(_ data: Data, count: Int) -> [Data] {
        var parts = data.split(separator: 0, maxSplits: count - 1, omittingEmptySubsequences: false).map { Data($0) }
        while parts.count < count { parts.append(Data()) }
        return parts
    }
}
