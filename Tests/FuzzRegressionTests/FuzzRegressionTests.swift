import Foundation
import Testing
import TestSupport
import TreeforgeFuzzing

/// Every input a fuzzer once crashed on, kept under Tests/Fixtures/fuzz/<target>/,
/// replayed through the same function the fuzzer runs: the fixed parser must
/// now return or throw a `ComposeError` (the fuzz functions trap on anything
/// else), never crash.
@Suite struct FuzzRegressionTests {
    static let kept = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/fuzz")

    static var targetsWithKeptInputs: [FuzzTarget] {
        FuzzTarget.allCases.filter { FileManager.default.fileExists(atPath: kept.appendingPathComponent($0.rawValue).path) }
    }

    @Test(arguments: targetsWithKeptInputs)
    func keptInputsReplayWithoutACrash(_ target: FuzzTarget) throws {
        let inputs = FuzzReplayer.files([Self.kept.appendingPathComponent(target.rawValue).path])
        #expect(!inputs.isEmpty, "Tests/Fixtures/fuzz/\(target.rawValue) is empty: remove it or keep an input in it")
        for input in inputs {
            target.fuzz(try Data(contentsOf: URL(fileURLWithPath: input)))
        }
    }

    @Test func theFixedParsersHaveKeptInputs() {
        #expect(Self.targetsWithKeptInputs.contains(.treefile))
        #expect(Self.targetsWithKeptInputs.contains(.repofile))
    }
}
