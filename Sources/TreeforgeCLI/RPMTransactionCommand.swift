import ArgumentParser
import TreeforgeCore

/// `treeforge internal rpm-transaction PLAN`: the rpm child process.
struct RPMTransactionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rpm-transaction")

    @Argument var plan: String

    func run() throws {
        let status = RPMTransactionChild.run(planPath: plan)
        if status != 0 { throw ExitCode(status) }
    }
}
