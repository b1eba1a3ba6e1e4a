import ArgumentParser
import TreeforgeCore

/// `treeforge internal rpm-transaction PLAN`: the rpm child process.
struct RPMTransactionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rpm-transaction")

    @Argument var plan: String
    /// The pid of the treeforge that started it: the child exits with it.
    @Option var parent: Int32?

    func run() throws {
        let status = RPMTransactionChild.run(planPath: plan, parent: parent)
        if status != 0 { throw ExitCode(status) }
    }
}
