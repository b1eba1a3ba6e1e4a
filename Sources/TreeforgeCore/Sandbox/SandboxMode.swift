import Foundation

/// How confined scriptlets (and postprocess scripts) run: `--sandbox`.
public enum SandboxMode: String, Sendable, CaseIterable {
    /// bubblewrap when it works here, else unconfined with a warning.
    case auto
    /// bubblewrap or fail.
    case bwrap
    /// unconfined: librpm's own chroot, as plain `rpm --root` does.
    case none
}

/// What a compose settled on for one run.
public enum Confinement: Sendable, Equatable {
    case sandboxed(Sandbox)
    /// `reason` says why bubblewrap is not used (nil when asked for `none`).
    case unconfined(reason: String?)
}

extension SandboxMode {
    /// Probes bubblewrap (once per process) when the mode may use it.
    /// Throws when `bwrap` was asked for and cannot run.
    public func resolve(sourceDateEpoch: Int, bwrap: String = Sandbox.defaultExecutable) throws -> Confinement {
        if self == .none { return .unconfined(reason: nil) }
        let sandbox = Sandbox(bwrap: bwrap, sourceDateEpoch: sourceDateEpoch)
        switch SandboxProbe.shared.result(for: sandbox) {
        case .success:
            return .sandboxed(sandbox)
        case .failure(let problem) where self == .auto:
            return .unconfined(reason: problem.description)
        case .failure(let problem):
            throw ComposeError(.install, subject: bwrap, "--sandbox bwrap was asked for, but bubblewrap cannot run here: \(problem)",
                               details: ["use --sandbox auto or none to run scriptlets unconfined (librpm's chroot only)"])
        }
    }
}

/// Why bubblewrap cannot run: missing, or the kernel or container refuses
/// the namespaces (an unprivileged container, user namespaces disabled).
public struct SandboxProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

/// Runs a trivial command under the real confinement once per bwrap path and
/// remembers the answer for the life of the process.
final class SandboxProbe: @unchecked Sendable {
    static let shared = SandboxProbe()
    private let lock = NSLock()
    private var results: [String: Result<Void, SandboxProblem>] = [:]

    func result(for sandbox: Sandbox) -> Result<Void, SandboxProblem> {
        lock.lock()
        defer { lock.unlock() }
        if let known = results[sandbox.bwrap] { return known }
        let result = Self.probe(sandbox)
        results[sandbox.bwrap] = result
        return result
    }

    static func probe(_ sandbox: Sandbox) -> Result<Void, SandboxProblem> {
        guard FileManager.default.isExecutableFile(atPath: sandbox.bwrap) else {
            return .failure(SandboxProblem(description: "\(sandbox.bwrap) is not installed (package bubblewrap)"))
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("treeforge-sandbox-probe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let output = Pipe()
            let process = SupervisedProcess(arguments: sandbox.arguments(writingInto: scratch, command: ["/bin/true"]),
                                            environment: [:], standardOutput: output, standardError: output)
            try process.start()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let status = process.waitForExit()
            guard status == 0 else {
                let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure(SandboxProblem(description: "\(sandbox.bwrap) exited with status \(status)" + (reason.isEmpty ? "" : ": \(reason)")))
            }
            return .success(())
        } catch {
            return .failure(SandboxProblem(description: "cannot run \(sandbox.bwrap): \(error.localizedDescription)"))
        }
    }
}
