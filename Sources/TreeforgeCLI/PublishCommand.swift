import ArgumentParser
import Foundation
import TreeforgeCore

/// `treeforge publish`: finish publishing what an interrupted or failed
/// compose left unpublished (deltas, summary, signature), without composing.
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Finish publishing ref heads that an interrupted or failed compose left unpublished.",
        discussion: "Every compose of a ref does this first too. Exit status: 0 every head published, 1 failed.")

    @Option(help: "The OSTree repository.") var repo: String = "repo"
    @Option(help: "Only this ref (default: every ref of the repository).") var ref: String?
    @Flag(help: "Fail at once when a compose holds the ref (default: wait for it).") var noWait = false
    @Option(help: ArgumentHelp("Progress on stderr (terminal, plain), or every event as a JSON line on stdout (json).", valueName: "auto|terminal|plain|json"))
    var progress: ProgressMode = .auto

    @OptionGroup(title: "Publishing") var publishOptions: PublishOptions

    /// The server's pid: a lane child the server starts dies with it.
    @Option(help: .hidden) var serverPid: Int32?

    func run() throws {
        if let serverPid, !ComposeChildLifetime.dieWith(parent: serverPid) {
            throw ValidationError("--server-pid \(serverPid): that process is gone")
        }
        try TerminalOutput.reportingErrors(progress: progress) { output in
            var publisher = RepositoryPublisher(repo: URL(fileURLWithPath: repo), policy: publishOptions.policy)
            publisher.waitForRef = !noWait
            let cancellation = Cancellation()
            SignalCancellation.install(cancellation)
            let report = try publisher.run(ref: ref, events: output.events, cancellation: cancellation)
            for done in report.published {
                output.say("Published \(done.ref) at \(done.commit)\(done.build.map { " (build #\($0))" } ?? "") (was missing: \(done.missing.joined(separator: "; ")))")
            }
            for (ref, commit) in report.alreadyPublished {
                output.say("\(ref) is published at \(commit)")
            }
        }
    }
}
