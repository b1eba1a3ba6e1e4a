import ArgumentParser
import Foundation
import TreeforgeCore

/// How a compose shows its progress (`--progress`).
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// `terminal` when stderr is a terminal, else `plain`.
    case auto
    /// One status line on stderr, redrawn in place.
    case terminal
    /// One plain line on stderr per package, finished stage and warning.
    case plain
    /// Every event as a JSON line on stdout (docs/events.md); nothing else on stdout.
    case json
}

/// How the CLI talks to people: progress on stderr (redrawn in place on a
/// terminal, plain lines when piped) or events as JSON lines on stdout;
/// results on stdout; errors on stderr.
struct TerminalOutput {
    let events: ComposeEventSink
    /// The event stream on stdout, with `--progress=json`: nothing else goes there.
    let stream: JSONLinesEvents?
    var isJSON: Bool { stream != nil }

    init(progress: ProgressMode = .auto) {
        switch progress {
        case .json:
            let stream = JSONLinesEvents(descriptor: STDOUT_FILENO)
            events = stream
            self.stream = stream
        case .terminal, .plain, .auto:
            let interactive = progress == .terminal || (progress == .auto && isatty(STDERR_FILENO) != 0)
            events = TerminalEvents(interactive: interactive)
            stream = nil
        }
    }

    /// A stream a command ended without its outcome (it failed before the
    /// engine ran, or outside it) gets the error and the outcome, so that a
    /// reader always sees how it ended.
    func endStream(_ error: ComposeError?, result: ComposeResult) {
        guard let stream, !stream.hasOutcome else { return }
        if let error { stream.emit(.error(error)) }
        stream.emit(.outcome(result))
    }

    func printSummary(_ summary: ComposeSummary) {
        guard !isJSON else { return }
        var lines = [
            "Committed \(summary.ref) version \(summary.version)",
            "  commit:   \(summary.commit)",
            "  parent:   \(summary.parent ?? "none")",
            "  packages: \(summary.packages.packages.count)",
            "  build:    #\(summary.buildID)",
        ]
        let total = summary.timings.reduce(0) { $0 + $1.1 }
        lines.append("  time:     " + summary.timings.map { "\($0.0) \(Self.seconds($0.1))" }.joined(separator: ", ")
                     + " (total \(Self.seconds(total)))")
        print(lines.joined(separator: "\n"))
    }

    func printTransaction(treefile: Treefile, set: ResolvedSet) {
        print("Resolved \(treefile.ref): \(set.packages.count) packages from \(set.repos.map(\.id).joined(separator: ", "))")
        let rows = set.packages.sorted { $0.nevra < $1.nevra }.map {
            [$0.nevra, $0.repository, Self.bytes($0.downloadSize), Self.bytes($0.installSize)]
        }
        let header = ["Package", "Repository", "Download", "Installed"]
        let widths = (0..<4).map { column in ([header] + rows).map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        print("  " + line(header))
        for row in rows { print("  " + line(row)) }
        print("Total: download \(Self.bytes(set.downloadSize)), installed \(Self.bytes(set.installSize))")
    }

    /// Prints a line on stdout unless stdout is the event stream.
    func say(_ text: String) {
        if !isJSON { print(text) }
    }

    func printError(_ error: ComposeError) {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    }

    /// Warnings of a command that runs no compose (`--print-only`, `compose why`), on stderr.
    static func printWarnings(_ warnings: [String]) {
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    }

    /// Runs a command's body: a ComposeError is printed (`error: STAGE: …`)
    /// and becomes exit status 1; a cancel is said (`cancelled: …`) and
    /// becomes 128 + the signal.
    static func reportingErrors(progress: ProgressMode = .auto, _ body: (TerminalOutput) throws -> Void) throws {
        let output = TerminalOutput(progress: progress)
        do {
            try body(output)
        } catch let error as ComposeError {
            output.endStream(error, result: ComposeResult(status: .failed, exitStatus: ComposeResult.failedExitStatus))
            output.printError(error)
            throw ExitCode.failure
        } catch let cancelled as ComposeCancelled {
            output.endStream(nil, result: ComposeResult(status: .cancelled, exitStatus: cancelled.exitStatus))
            FileHandle.standardError.write(Data("cancelled: \(cancelled.reason) during \(cancelled.stage)\n".utf8))
            throw ExitCode(cancelled.exitStatus)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // An option that did not parse inside the command (ValidationError), say.
            output.endStream(ComposeError(.load, "\(error)"), result: ComposeResult(status: .failed, exitStatus: ComposeResult.failedExitStatus))
            throw error
        }
    }

    static func seconds(_ value: Double) -> String { String(format: "%.2fs", value) }

    static func bytes(_ value: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var size = Double(value)
        var unit = 0
        while size >= 1024 && unit < units.count - 1 { size /= 1024; unit += 1 }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", size, units[unit])
    }
}

/// Renders compose events on stderr for a person: on a terminal one status
/// line redrawn in place; when stderr is a pipe or a file (CI logs), one
/// plain line per package, finished stage and warning, without carriage
/// returns or escape codes. Errors and the outcome are the command's to print.
final class TerminalEvents: ComposeEventSink {
    let interactive: Bool

    init(interactive: Bool) { self.interactive = interactive }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    /// On a terminal, replaces the status line; otherwise a line of its own.
    private func status(_ text: String, final: Bool = false) {
        if interactive {
            write("\u{1B}[2K\r\(text)\(final ? "\n" : "")")
        } else {
            write("\(text)\n")
        }
    }

    func emit(_ event: ComposeEvent) {
        switch event {
        case .stageStarted(let stage):
            if interactive { status("\(stage)…") }
        case .stageFinished(let stage, let seconds, _):
            status("\(stage) done in \(TerminalOutput.seconds(seconds))", final: true)
        case .package(let index, let total, let nevra):
            status("install [\(index)/\(total)] \(nevra)")
        case .warning(let message):
            status("warning: \(message)", final: true)
        case .waiting(let ref, let holder):
            status("waiting: \(ref) is being worked on by \(holder)", final: true)
        case .publishResumed(let ref, let commit, let build, let missing):
            let owner = build.map { " (build #\($0))" } ?? ""
            status("publish: \(ref) head \(commit)\(owner) is not published (missing \(missing.joined(separator: "; "))); publishing it first",
                   final: true)
        case .buildStarted, .scriptletStarted, .scriptletFinished, .error, .outcome:
            break
        }
    }
}
