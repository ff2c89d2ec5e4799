import ArgumentParser
import Backprop

/// `backprop train`: trains a network and reports (and optionally saves) the result.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network (by default on the built-in handwritten digits).",
        discussion: """
            With no options, trains 64 → 64 → 10 (ReLU) on the built-in 8×8 digits: 80/20 \
            split, standardized features, SGD with learning rate 0.1, batches of 32, 40 epochs.

            Progress goes to stderr: on a terminal a progress bar and a line per epoch, \
            otherwise only the epoch lines. The result goes to stdout as one line, or as one \
            JSON object with --json (backend, threads, epochs, parameters, train_loss, \
            test_loss, test_accuracy, samples_per_second, seconds). For xor, which is too small \
            to split, test_* are measured on the four training points.

            Ctrl-C (SIGINT), SIGTERM or SIGHUP stops at the next minibatch. With --save the full \
            checkpoint is written first, and 'backprop train --resume FILE' continues the run \
            exactly where it stopped (bit-identical to an uninterrupted run on the same \
            backend and threads). The exit status is then 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP). \
            --save and --report are checked before training starts.

            Examples:
              backprop train
              backprop train --dataset mnist --data ~/mnist --hidden 256,128 --optimizer adam --save mnist.safetensors
              backprop train --dataset csv --data iris.csv --label-column species --epochs 100
              backprop train --resume mnist.safetensors --epochs 10
            """)

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: ArgumentHelp(
        "The fraction of samples held out for testing, in [0, 1). Default: 0.2 (MNIST uses its test files; xor is not split).",
        valueName: "fraction"))
    var testSplit: Double?

    @OptionGroup(title: "Model") var model: ModelOptions
    @OptionGroup(title: "Training") var training: TrainingOptions
    @OptionGroup(title: "Engine") var engine: EngineOptions
    @OptionGroup(title: "Output") var output: TrainOutputOptions
    @OptionGroup(title: "Distributed") var distributed: DistributedOptions

    @Option(help: ArgumentHelp(
        "Continue an interrupted run from a full checkpoint written by --save. Only --epochs (the new total), the engine and output options may be given with it; the rest comes from the checkpoint, which is also where the run saves unless --save says otherwise.",
        valueName: "file.safetensors"))
    var resume: String?

    func validate() throws {
        if let testSplit, !(testSplit >= 0 && testSplit < 1) {
            throw ValidationError("--test-split must be in [0, 1), got \(testSplit)")
        }
        if let resume {
            let fixed: [(String, Bool)] = [
                ("--dataset", data.dataset != nil), ("--data", data.data != nil),
                ("--label-column", data.labelColumn != nil), ("--test-split", testSplit != nil),
                ("--layers", model.layers != nil), ("--hidden", model.hidden != nil), ("--arch", model.arch != nil),
                ("--input-shape", data.inputShape != nil),
                ("--activation", model.activation != nil), ("--loss", model.loss != nil),
                ("--normalize", model.normalize != nil), ("--optimizer", training.optimizer != nil),
                ("--lr", training.learningRate != nil), ("--momentum", training.momentum != nil),
                ("--nesterov", training.nesterov), ("--beta1", training.beta1 != nil),
                ("--beta2", training.beta2 != nil), ("--eps", training.epsilon != nil),
                ("--weight-decay", training.weightDecay != nil), ("--batch-size", training.batchSize != nil),
                ("--seed", training.seed != nil), ("--clip-grad-norm", training.clipGradNorm != nil),
            ]
            if let (name, _) = fixed.first(where: { $0.1 }) {
                throw ValidationError("\(name) cannot be changed when resuming; \(resume) holds the run's settings")
            }
        } else {
            try training.validateOptimizerFit()
        }
    }

    mutating func run() throws {
        // Outputs are checked before anything is loaded, and again with the resumed run's data.
        try TrainingRun.checkOutputs(save: output.save ?? resume, report: output.report, resume: resume,
                                     data: data.data.map(absolutePath))
        try distributed.run { try train(communicator: $0) }
    }

    /// Trains with `communicator`'s ranks; under --distributed rank 0 alone prints and writes files.
    private func train(communicator: any Communicator) throws {
        let progress = ProgressDisplay.automatic(quiet: output.quiet || !communicator.isRoot)
        var engine = engine
        engine.threads = engine.threads ?? distributed.threadsPerRank()
        let (backend, threads) = try engine.resolve()
        let run: TrainingRun
        if let resume {
            run = try TrainingRun(resuming: resume, epochs: training.epochs, backend: backend, communicator: communicator)
        } else {
            var settings = try resolveSettings()
            let loaded = try loadData(settings)
            if settings.arch == nil { settings.layers = try widths(for: loaded) }
            try checkTrainable(loaded, settings: settings)
            settings.backend = backend.name
            settings.dataFingerprint = fingerprint(loaded.all)
            run = try TrainingRun(settings: settings, data: loaded, backend: backend, communicator: communicator)
        }
        try run.train(save: communicator.isRoot ? output.save ?? resume : nil,
                      report: communicator.isRoot ? output.report : nil, json: output.json, threads: threads,
                      progress: progress)
    }

    /// The settings from the flags, with the dataset's defaults for what is not given; the
    /// layer widths are filled in once the data is loaded.
    private func resolveSettings() throws -> TrainSettings {
        let kind = try data.resolvedKind(fallback: .digits)
        let defaults = DatasetDefaults.of(kind)
        let optimizer = training.optimizer ?? .sgd
        let arch: String? = model.arch.map { Architecture.presets[$0] ?? $0 }
        let inputShape: [Int]? = try data.inputShape.map(parseInputShape)
        return TrainSettings(
            dataset: kind, data: data.data.map(absolutePath), labelColumn: data.labelColumn,
            testSplit: testSplit ?? 0.2, normalize: model.normalize ?? defaults.normalize, layers: [],
            activation: model.activation ?? defaults.activation, loss: model.loss ?? .crossEntropy,
            optimizer: optimizer,
            learningRate: training.learningRate ?? (optimizer == .sgd ? defaults.sgdLearningRate : 0.001),
            momentum: training.momentum ?? 0,
            nesterov: optimizer == .sgd ? training.nesterov : nil,
            beta1: optimizer == .sgd ? nil : training.beta1 ?? TrainSettings.defaultBeta1,
            beta2: optimizer == .sgd ? nil : training.beta2 ?? TrainSettings.defaultBeta2,
            epsilon: optimizer == .sgd ? nil : training.epsilon ?? TrainSettings.defaultEpsilon,
            weightDecay: training.weightDecay ?? (optimizer == .adamw ? 0.01 : 0),
            epochs: training.epochs ?? defaults.epochs, batchSize: training.batchSize ?? defaults.batchSize,
            seed: training.seed ?? 1, clipGradNorm: training.clipGradNorm,
            arch: arch, inputShape: inputShape)
    }

    /// Every layer width: `--layers` checked against the data, or the data's widths around
    /// `--hidden` (or the dataset's default hidden widths).
    private func widths(for loaded: LoadedData) throws -> [Int] {
        let features = loaded.train.featureCount, outputs = loaded.train.outputCount
        if let layers = model.layers {
            let widths = try parseWidths(layers, option: "--layers")
            guard widths.first == features, widths.last == outputs else {
                throw CLIError("--layers \(layers) does not fit the \(loaded.name) data, which has \(features) "
                    + "features and \(outputs) \(loaded.train.labels != nil ? "classes" : "outputs"): "
                    + "the first width must be \(features) and the last \(outputs) (or use --hidden)")
            }
            return widths
        }
        let kind = try data.resolvedKind(fallback: .digits)
        let hidden = try model.hidden.map { try parseWidths($0, option: "--hidden") } ?? DatasetDefaults.of(kind).hidden
        return [features] + hidden + [outputs]
    }
}
