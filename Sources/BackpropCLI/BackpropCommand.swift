import ArgumentParser
import Backprop

/// `backprop`: train, evaluate and use neural networks from the command line.
@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Train neural networks by backpropagation on the CPU.",
        discussion: """
            Run 'backprop train' with no arguments to train a small network on the built-in \
            handwritten digits and watch it learn. Errors print one line starting with \
            'error:'; the exit status is 0 on success, 1 for errors, 2 for usage errors, and \
            130/143/129 when training is interrupted by SIGINT/SIGTERM/SIGHUP.
            """,
        version: "0.1.0",
        subcommands: subcommands,
        defaultSubcommand: nil
    )

    /// Every subcommand, in the order `--help` lists them.
    static let subcommands: [any ParsableCommand.Type] = [
        TrainCommand.self,
        EvalCommand.self,
        PredictCommand.self,
        TraceCommand.self,
        BackendsCommand.self,
        VerifyCommand.self,
        BenchCommand.self,
        AllReduceBenchCommand.self,
    ]

    /// Parses, runs, and turns every error into one line on stderr and an exit status.
    static func main() {
        ignoreBrokenPipes()
        Interrupts.unblock()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exitWithError(error)
        }
    }
}
