import Foundation

/// What a fuzz executable does in a normal (unsanitized) build: runs its fuzz
/// function over every file named on the command line, and over the files
/// of every folder named, so kept inputs and whole corpora replay without
/// libFuzzer. A crash is the process dying, as under the fuzzer.
public enum FuzzReplayer {
    public static func main(_ fuzz: (Data) -> Void, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        guard !arguments.isEmpty else {
            let name = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "fuzz"
            FileHandle.standardError.write(Data("usage: \(name) INPUT|FOLDER…  (replays inputs; scripts/fuzz runs the fuzzer)\n".utf8))
            exit(2)
        }
        let inputs = files(arguments)
        for input in inputs {
            guard let data = FileManager.default.contents(atPath: input) else {
                FileHandle.standardError.write(Data("cannot read \(input)\n".utf8))
                exit(1)
            }
            fuzz(data)
        }
        print("replayed \(inputs.count) input\(inputs.count == 1 ? "" : "s") without a crash")
    }

    /// The files named, folders expanded one level (libFuzzer's corpus layout), sorted.
    public static func files(_ arguments: [String]) -> [String] {
        arguments.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
        }
    }
}

/// The bytes libFuzzer hands a target, as the `Data` the fuzz functions take.
public func fuzzData(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> Data {
    guard let bytes, size > 0 else { return Data() }
    return Data(bytes: bytes, count: size)
}
