import ArgumentParser
import Backprop

/// Which samples `eval` measures.
enum EvalSplit: String, CaseIterable, ExpressibleByArgument {
    case test, train, all
}

/// `backprop eval`: loss, accuracy, per-class precision and recall, confusion matrix.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a saved model on a dataset.",
        discussion: """
            The model file alone rebuilds the network: architecture, loss and the feature \
            normalization fitted during training are stored in it.

            Without --dataset and --data, the model is evaluated on the samples its training \
            run held out: the same dataset, split again with the run's --test-split and \
            --seed (MNIST: the t10k test files). For other data, every sample is used unless \
            --split says otherwise.

            Examples:
              backprop eval --model digits.safetensors
              backprop eval --model iris.safetensors --data iris-test.csv --json
            """)

    @Option(help: ArgumentHelp("The model, as saved by 'backprop train --save'.", valueName: "file.safetensors"))
    var model: String

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: ArgumentHelp(
        "Which samples: test (held out), train (the rest) or all. Default: test for the data the model was trained on, else all.",
        valueName: "part"))
    var split: EvalSplit?

    @Option(help: ArgumentHelp("The held-out fraction. Default: the training run's, else 0.2.", valueName: "fraction"))
    var testSplit: Double?

    @Option(help: ArgumentHelp("The split seed. Default: the training run's, else 1.", valueName: "n"))
    var seed: UInt64?

    @OptionGroup(title: "Engine") var engine: EngineOptions

    @Flag(help: "Print one JSON object: loss, accuracy, per-class precision/recall/support, confusion matrix.")
    var json = false

    func validate() throws {
        if let testSplit, !(testSplit > 0 && testSplit < 1) {
            throw ValidationError("--test-split must be in (0, 1), got \(testSplit)")
        }
    }

    mutating func run() throws {
        let checkpoint = try ModelCheckpoint.load(from: model)
        let trained = try checkpoint.settings.map { try TrainSettings.decode($0, path: model) }
        guard let kind = try data.dataset ?? data.data.map({ _ in try data.resolvedKind(fallback: .csv) }) ?? trained?.dataset else {
            throw CLIError("\(model) does not say which data it was trained on; give --dataset (and --data)")
        }
        let path = data.data.map(absolutePath) ?? (kind == trained?.dataset ? trained?.data : nil)
        let sameData = trained.map { $0.dataset == kind && $0.data == path } ?? false
        let part = split ?? (sameData || kind == .mnist ? .test : .all)
        let loss = LossOption(checkpoint.loss)
        let loaded = try loadData(
            kind, path: path, labelColumn: data.labelColumn ?? (sameData ? trained?.labelColumn : nil), loss: loss,
            testSplit: testSplit ?? (sameData ? trained?.testSplit : nil) ?? 0.2, seed: seed ?? trained?.seed ?? 1)
        var samples: Dataset
        switch part {
        case .test: samples = loaded.test ?? loaded.all
        case .train: samples = loaded.train
        case .all:
            guard kind != .mnist else { throw CLIError("--split all is not available for MNIST; use test or train") }
            samples = loaded.all
        }
        if let width = Architecture.inputWidth(of: checkpoint.model), width != samples.featureCount {
            throw CLIError("\(model) takes \(width) features but the \(loaded.name) data has \(samples.featureCount)")
        }
        guard samples.count > 0 else {
            throw CLIError("the \(part.rawValue) part of the \(loaded.name) data holds no samples; try --split all")
        }
        // The checkpoint records the shape its network takes; --input-shape may repeat it, or
        // give one a checkpoint without it lacks, never change it.
        let givenShape = try data.inputShape.map(parseInputShape)
        if let givenShape, let saved = checkpoint.inputShape, givenShape != saved {
            throw ValidationError("--input-shape \(givenShape.map(String.init).joined(separator: ",")) does not match \(model), "
                + "which takes samples of shape \(saved.map(String.init).joined(separator: "x")); leave --input-shape out")
        }
        if let shape = checkpoint.inputShape ?? givenShape {
            guard shape.reduce(1, *) == samples.featureCount else {
                throw CLIError("\(model) takes samples of shape \(shape.map(String.init).joined(separator: "x")) "
                    + "(\(shape.reduce(1, *)) features) but the \(loaded.name) data has \(samples.featureCount)")
            }
            samples = try samples.withSampleShape(shape)
        }
        let outputShape = try checkpoint.model.outputShape(forInputShape: samples.sampleShape)
        guard let outputs = CheckedSize.product(outputShape) else {
            throw CLIError("\(model)'s network outputs samples of shape \(outputShape.map(String.init).joined(separator: "x")), more values than an Int can count")
        }
        let confusion = Double(outputs) * Double(outputs) * 8
        if samples.labels != nil, confusion > Double(MemoryLimits.physicalBytes) {
            throw CLIError("\(model) has \(outputs) outputs: its \(outputs)×\(outputs) confusion matrix needs "
                + "\(gibibytes(confusion)) GiB, more than this machine's memory")
        }
        if case .labels(let labels, let classes) = samples.targets, classes < outputs {
            // Data that lacks the top classes (a small test file) still fits the model's classes.
            samples = try Dataset(features: samples.features, labels: labels, classCount: outputs)
                .withSampleShape(samples.sampleShape)
        }
        try checkFitsInMemory(checkpoint.model, what: "the network of \(model)", sampleShape: samples.sampleShape,
                              rows: min(samples.count, 512), training: false, classes: samples.labels != nil ? outputs : nil)
        let backend = try engine.resolve().backend
        let evaluation = try checkpoint.evaluate(samples, backend: backend)
        let described = "\(loaded.name), \(loaded.test == nil ? "all" : part.rawValue) samples"
        if json {
            printJSON(Self.json(evaluation, model: model, data: described))
        } else {
            writeStdout(Self.text(evaluation, data: described))
        }
    }

    /// `model, data, samples, loss, accuracy` and, for a classifier, `classes` (precision,
    /// recall, support per class) and `confusion`; for a regression `accuracy` is null and
    /// `mean_absolute_error` is given.
    static func json(_ evaluation: Evaluation, model: String, data: String) -> JSON {
        var pairs: [(String, JSON)] = [
            ("model", .string(model)), ("data", .string(data)), ("samples", .int(evaluation.count)),
            ("loss", .number(evaluation.loss)),
        ]
        switch evaluation {
        case .classification(let result):
            let (precision, recall, support) = (result.precision, result.recall, result.support)
            pairs.append(("accuracy", .number(result.accuracy)))
            pairs.append(("classes", .array(result.confusion.indices.map { c in
                .object([("class", .int(c)), ("precision", .number(precision[c])), ("recall", .number(recall[c])),
                         ("support", .int(support[c]))])
            })))
            pairs.append(("confusion", .array(result.confusion.map { .array($0.map { .int($0) }) })))
        case .regression(let result):
            pairs.append(("accuracy", .null))
            pairs.append(("mean_absolute_error", .number(result.meanAbsoluteError)))
        }
        return .object(pairs)
    }

    /// The sample count, the loss and accuracy (or mean absolute error), and for a classifier
    /// the per-class table and the confusion matrix.
    static func text(_ evaluation: Evaluation, data: String) -> String {
        var out = "\(data): \(evaluation.count)\n"
        out += "loss \(fixed(evaluation.loss, 4))"
        guard case .classification(let result) = evaluation else {
            out += " · mean absolute error \(fixed(evaluation.regression!.meanAbsoluteError, 4))\n"
            return out
        }
        let (confusion, precision, recall, support) = (result.confusion, result.precision, result.recall, result.support)
        out += " · accuracy \(fixed(result.accuracy, 4)) (\(result.correct)/\(support.reduce(0, +)))\n"
        out += "\nclass  precision  recall  support\n"
        for c in confusion.indices {
            out += padLeft(String(c), 5) + padLeft(fixed(precision[c], 4), 11) + padLeft(fixed(recall[c], 4), 8)
                + padLeft(String(support[c]), 9) + "\n"
        }
        let cell = max(4, String(confusion.flatMap { $0 }.max() ?? 0).count + 1)
        out += "\nconfusion matrix (rows: actual class, columns: predicted class)\n"
        out += padLeft("", 5) + confusion.indices.map { padLeft(String($0), cell) }.joined() + "\n"
        for (c, row) in confusion.enumerated() {
            out += padLeft(String(c), 5) + row.map { padLeft(String($0), cell) }.joined() + "\n"
        }
        return out
    }
}

/// `text` right-aligned in `width` columns.
func padLeft(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}
