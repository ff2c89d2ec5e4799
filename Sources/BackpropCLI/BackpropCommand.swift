import ArgumentParser
import Backprop

/// `backprop`: train, evaluate and use neural networks from the command line.
///
/// The `backprop` executable is `BackpropCommand.main()`. Another package gets the same command
/// line for its own backend by depending on the `BackpropCLI` product:
///
/// ```swift
/// import Backprop
/// import BackpropCLI
///
/// try BackendRegistry.register(.init(name: "mine", summary: "my backend") { threads, _ in
///     MyBackend(threads: threads)
/// })
/// BackpropCommand.main()   // `mytool train --backend mine`, `mytool verify --backend mine`, ...
/// ```
public struct BackpropCommand: ParsableCommand {
    /// The name, help text, version and subcommands of `backprop`.
    public static let configuration = CommandConfiguration(
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

    /// The root command holds no options (swift-argument-parser builds it); run ``main()``.
    public init() {}

    /// Runs the command line of this process (`CommandLine.arguments`); see ``main(_:)``.
    public static func main() {
        main(nil)
    }

    /// Parses `arguments` (without the program name; nil: the process's), runs the command, and
    /// turns every error into one `error:` line on stderr and the documented exit status (the
    /// process exits then). Returns when the command succeeds.
    public static func main(_ arguments: [String]?) {
        ignoreBrokenPipes()
        Interrupts.unblock()
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            exitWithError(error)
        }
    }
}
