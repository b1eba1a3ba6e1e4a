import ArgumentParser
import Foundation
import TreeforgeCore

extension SandboxMode: ExpressibleByArgument {}

/// `--sandbox` and `--scriptlet-timeout`, for the commands that install.
struct ScriptletOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Run scriptlets under bubblewrap (bwrap), unconfined (none), or bwrap when it can run here, else unconfined with a warning (auto).",
        valueName: "auto|bwrap|none"))
    var sandbox: SandboxMode = .auto

    @Option(help: ArgumentHelp("Stop a scriptlet that runs longer than this and fail the compose, naming it.", valueName: "SECONDS"))
    var scriptletTimeout: Double = Installer.defaultScriptletTimeout

    func validate() throws {
        guard scriptletTimeout > 0 else { throw ValidationError("--scriptlet-timeout must be a positive number of seconds") }
    }

    func apply(to environment: inout ComposeEnvironment) {
        environment.sandbox = sandbox
        environment.scriptletTimeout = scriptletTimeout
    }
}
