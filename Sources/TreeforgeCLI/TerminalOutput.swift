import ArgumentParser
import Foundation
import TreeforgeCore

/// How the CLI talks to people: progress on stderr (redrawn in place on a
/// terminal, plain lines when piped), results on stdout, errors on stderr.
struct TerminalOutput {
    let progress: ComposeProgress

    init() {
        progress = TerminalProgress(interactive: isatty(STDERR_FILENO) != 0)
    }

    func printSummary(_ summary: ComposeSummary) {
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

    func printError(_ error: ComposeError) {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    }

    /// Runs a command's body: a ComposeError is printed (`error: STAGE: …`)
    /// and becomes exit status 1.
    static func reportingErrors(_ body: (TerminalOutput) throws -> Void) throws {
        let output = TerminalOutput()
        do {
            try body(output)
        } catch let error as ComposeError {
            output.printError(error)
            throw ExitCode.failure
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

/// Per-stage and per-package progress on stderr: on a terminal one status
/// line redrawn in place; when stderr is a pipe or a file (CI logs, the
/// server's captured output), one plain line per package and per finished
/// stage, without carriage returns or escape codes.
final class TerminalProgress: ComposeProgress {
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

    func stageStarted(_ stage: Stage) {
        if interactive { status("\(stage)…") }
    }

    func stageFinished(_ stage: Stage, seconds: Double) {
        status("\(stage) done in \(TerminalOutput.seconds(seconds))", final: true)
    }

    func installing(_ nevra: String, index: Int, total: Int) {
        status("install [\(index)/\(total)] \(nevra)")
    }

    func warning(_ message: String) { status("warning: \(message)", final: true) }
}
