import ArgumentParser
import Backprop
import Foundation

/// `backprop trace`: one sample through a small network, every forward value and every
/// gradient of the backward pass, one SGD update and the loss after it.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show backpropagation step by step on a small example.",
        discussion: """
            Examples:
              worked  the tutorials' 3-class example: softmax cross-entropy, Dense(2 → 3)
              xor     the chain rule through a 2-2-1 sigmoid network with squared error
              edges   a 5×5 image patch through a 25-8-2 ReLU network
            Every number is computed by the engine (pure-Swift reference backend).
            """)

    @Option(name: .long, help: "The example: \(BackpropTrace.Example.allCases.map(\.rawValue).joined(separator: ", ")).")
    var example = BackpropTrace.Example.worked.rawValue

    @Option(name: .long, help: "Learning rate of the SGD update (default: 0.1 for worked and edges, 0.5 for xor).")
    var lr: Float?

    @Option(name: .long, help: "Decimals shown in the text output (1 to 8).")
    var decimals = 4

    @Flag(name: .long, help: "Print the steps as JSON instead of text.")
    var json = false

    func validate() throws {
        // A plain string rather than an `ExpressibleByArgument` conformance on a library type,
        // so no other file of the CLI can end up declaring the same conformance.
        guard BackpropTrace.Example(rawValue: example) != nil else {
            let known = BackpropTrace.Example.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("unknown example '\(example)'; known examples: \(known)")
        }
        if let lr, !(lr.isFinite && lr > 0) {
            throw ValidationError("--lr must be a positive number, got \(lr)")
        }
        guard (1...8).contains(decimals) else {
            throw ValidationError("--decimals must be between 1 and 8, got \(decimals)")
        }
    }

    func run() throws {
        let chosen = BackpropTrace.Example(rawValue: example) ?? .worked
        let trace = try BackpropTrace.run(chosen, learningRate: lr)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // JSON has no NaN or infinity: a value that overflowed (--lr 3e38) is written as null.
            let marker = "\u{1}non-finite"
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: marker, negativeInfinity: marker, nan: marker)
            let text = String(decoding: try encoder.encode(trace), as: UTF8.self)
            print(text.replacingOccurrences(of: "\"\\u0001non-finite\"", with: "null"))
        } else {
            print(trace.text(decimals: decimals), terminator: "")
        }
    }
}
