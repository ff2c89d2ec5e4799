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
              worked  the classic three-class softmax example (logits [2.0, 1.0, 0.1], target 0)
                      through one Dense(2 → 3) layer; names the wrong dL/dx its widely copied
                      version prints, and why
              xor     the classic XOR 2-2-1 sigmoid network with squared error, one sample
              edges   the 5×5 vertical-edge detector, a 25-8-2 ReLU network
            Your own model: --model FILE --input ROW walks one row of raw features (comma-separated,
            in the units of the training file) through a saved dense network, with --label K
            (classifiers; default: the model's own prediction) or --target V,... (MSE models).
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

    @Option(name: .long, help: "Trace your own saved model (a checkpoint from train --save) instead of an example.")
    var model: String?

    @Option(name: .long, help: "With --model: one row of raw features, comma-separated.")
    var input: String?

    @Option(name: .long, help: "With --model: the class of the input (classifiers).")
    var label: Int32?

    @Option(name: .long, help: "With --model: the target values, comma-separated (MSE models).")
    var target: String?

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
        if model == nil, input != nil || label != nil || target != nil {
            throw ValidationError("--input, --label and --target go with --model FILE")
        }
        if model != nil, input == nil {
            throw ValidationError("--model needs --input ROW, one row of raw features, e.g. --input 0.5,1,0")
        }
        if label != nil, target != nil {
            throw ValidationError("give --label (classifiers) or --target (MSE models), not both")
        }
    }

    /// Comma-separated finite numbers, for --input and --target.
    static func numbers(_ text: String, option: String) throws -> [Float] {
        let cells = text.split(separator: ",", omittingEmptySubsequences: false)
        return try cells.enumerated().map { index, cell in
            let trimmed = cell.trimmingCharacters(in: .whitespaces)
            guard let value = Float(trimmed), value.isFinite else {
                throw ValidationError("\(option): value \(index + 1) ('\(trimmed.prefix(40))') is not a finite number")
            }
            return value
        }
    }

    func run() throws {
        let trace: Trace
        if let model, let input {
            let checkpoint = try ModelCheckpoint.load(from: model)
            let row = try Self.numbers(input, option: "--input")
            let goal: BackpropTrace.Target? = try label.map { .label($0) }
                ?? target.map { .values(try Self.numbers($0, option: "--target")) }
            trace = try BackpropTrace.run(model: checkpoint, input: row, target: goal, learningRate: lr ?? 0.1)
        } else {
            let chosen = BackpropTrace.Example(rawValue: example) ?? .worked
            trace = try BackpropTrace.run(chosen, learningRate: lr)
        }
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
