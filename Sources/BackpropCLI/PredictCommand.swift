import ArgumentParser
import Backprop

/// `backprop predict`: the class and probabilities of each row of a CSV file.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict classes and probabilities with a saved model.",
        discussion: """
            The input is a CSV file (plain or .gz, optional header row) with one sample per \
            row. Normally it holds exactly the model's feature columns. It may also hold one \
            extra column, the true label (the last column unless --label-column says \
            otherwise), so a training CSV can be fed as it is; the label is then printed next \
            to each prediction and the accuracy is reported on stderr. The normalization \
            saved with the model is applied to the features.

            Output: CSV on stdout, one row per sample: row (1-based), class, label (when \
            given), then one probability per class (p_0, p_1, ...; for bce the two columns \
            1 − σ(z) and σ(z) of its one output z; raw outputs y_0, ... for models trained with \
            mse). With --json: one object with a 'predictions' array.

            Example:
              backprop predict --model digits.safetensors --input samples.csv
            """)

    @Option(help: ArgumentHelp("The model, as saved by 'backprop train --save'.", valueName: "file.safetensors"))
    var model: String

    @Option(help: ArgumentHelp("The samples: a CSV file of feature columns (and optionally a label column).",
                               valueName: "file.csv"))
    var input: String

    @Option(help: ArgumentHelp(
        "When the input has a label column: its 0-based index (negative counts from the end) or header name. Default: the last column.",
        valueName: "N|name"))
    var labelColumn: String?

    @OptionGroup(title: "Engine") var engine: EngineOptions

    @Flag(help: "Print one JSON object with a prediction per row.")
    var json = false

    mutating func run() throws {
        let checkpoint = try ModelCheckpoint.load(from: model)
        guard let width = checkpoint.inputShape.map({ $0.reduce(1, *) }) ?? Architecture.inputWidth(of: checkpoint.model) else {
            throw CLIError("\(model) records no input shape and does not start with a dense layer, so its input width is unknown")
        }
        let (matrix, names) = try CSV.loadMatrix(path: input)
        // The label column the model was trained with, unless --label-column says otherwise.
        let saved = try checkpoint.settings.map { try TrainSettings.decode($0, path: model) }?.labelColumn
        let (features, labels) = try Self.split(matrix, names: names, width: width, labelColumn: labelColumn ?? saved,
                                                explicit: labelColumn != nil, path: input)
        // Every row goes through the network at once: a CNN's activations can pass memory.
        try checkFitsInMemory(checkpoint.model, what: "the network of \(model)", sampleShape: checkpoint.inputShape ?? [width],
                              rows: features.rows, training: false, classes: nil)
        let backend = try engine.resolve().backend
        // The checkpoint normalizes, shapes each flat row as a sample and applies the output activation.
        let prediction = try checkpoint.predict(features, backend: backend)
        let outputs = Self.classProbabilities(prediction.probabilities, loss: checkpoint.loss)
        let prefix = checkpoint.loss.kind == .mse ? "y_" : "p_"
        let correct = labels.flatMap { labels in
            prediction.classes.map { classes in zip(classes, labels).filter { Float($0) == $1 }.count }
        }

        if json {
            let rows: [JSON] = (0..<outputs.rows).map { r in
                var pairs: [(String, JSON)] = [("row", .int(r + 1))]
                if let classes = prediction.classes { pairs.append(("class", .int(Int(classes[r])))) }
                if let labels { pairs.append(("label", .float(labels[r]))) }
                pairs.append((checkpoint.loss.kind == .mse ? "outputs" : "probabilities",
                              .array(outputs.row(r).map { .float($0) })))
                return .object(pairs)
            }
            var result: [(String, JSON)] = [("model", .string(model)), ("input", .string(input)), ("predictions", .array(rows))]
            if let correct { result.append(("accuracy", .number(Double(correct) / Double(max(outputs.rows, 1))))) }
            printJSON(.object(result))
        } else {
            var header = ["row"]
            if prediction.classes != nil { header.append("class") }
            if labels != nil { header.append("label") }
            header += (0..<outputs.cols).map { "\(prefix)\($0)" }
            var out = header.joined(separator: ",") + "\n"
            for r in 0..<outputs.rows {
                var cells = [String(r + 1)]
                if let classes = prediction.classes { cells.append(String(classes[r])) }
                if let labels { cells.append(labelText(labels[r])) }
                cells += outputs.row(r).map { fixed(Double($0), 6) }
                out += cells.joined(separator: ",") + "\n"
            }
            writeStdout(out)
            if let correct {
                writeStderr("accuracy \(fixed(Double(correct) / Double(max(outputs.rows, 1)), 4)) (\(correct)/\(outputs.rows))\n")
            }
        }
    }

    /// One column per class: for binary cross-entropy the model's one probability σ(z) of
    /// class 1 becomes the two columns 1 − σ(z), σ(z), as a two-class softmax model prints.
    // probabilities: (rows, 1) -> (rows, 2) for bce; unchanged otherwise
    static func classProbabilities(_ probabilities: Tensor, loss: Loss) -> Tensor {
        guard loss.kind == .binaryCrossEntropy, probabilities.cols == 1 else { return probabilities }
        let both = Tensor(rows: probabilities.rows, cols: 2)
        for r in 0..<probabilities.rows {
            both[r, 0] = 1 - probabilities.data[r]
            both[r, 1] = probabilities.data[r]
        }
        return both
    }

    /// Separates the label column, if the input has one more column than the model's features.
    // matrix: (rows, width) or (rows, width + 1) -> features: (rows, width), labels: rows
    static func split(_ matrix: Tensor, names: [String]?, width: Int, labelColumn: String?, explicit: Bool = true,
                      path: String) throws -> (Tensor, [Float]?) {
        if matrix.cols == width {
            if let labelColumn, explicit {
                throw CLIError("--label-column \(labelColumn): \(path) has \(width) columns, exactly the model's features, so no label column")
            }
            return (matrix, nil)
        }
        guard matrix.cols == width + 1 else {
            throw CLIError("\(path) has \(matrix.cols) columns but the model takes \(width) features; "
                + "give \(width) feature columns, optionally plus one label column")
        }
        var label = matrix.cols - 1
        switch parseLabelColumn(labelColumn) {
        case .index(let i):
            label = i < 0 ? matrix.cols + i : i
            guard label >= 0, label < matrix.cols else {
                guard explicit else { label = matrix.cols - 1; break }
                throw CLIError("--label-column \(i) does not exist: \(path) has \(matrix.cols) columns")
            }
        case .name(let name):
            // The saved name falls back to the last column for a file without that header.
            guard let index = names?.firstIndex(of: name) else {
                guard explicit else { break }
                throw CLIError("--label-column \(printable(name, limit: 80)): \(path) has no header column of that name")
            }
            label = index
        }
        let features = Tensor(rows: matrix.rows, cols: width)
        var labels = [Float]()
        labels.reserveCapacity(matrix.rows)
        for r in 0..<matrix.rows {
            var k = 0
            for c in 0..<matrix.cols {
                if c == label { labels.append(matrix[r, c]) } else { features[r, k] = matrix[r, c]; k += 1 }
            }
        }
        return (features, labels)
    }
}

/// A label cell as printed: an integer without decimals when it is one and fits, else the float.
func labelText(_ label: Float) -> String {
    label == label.rounded() && abs(label) < 1e15 ? String(Int64(label)) : String(label)
}
