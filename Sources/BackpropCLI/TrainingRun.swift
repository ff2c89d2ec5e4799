import ArgumentParser
import Backprop
import Foundation

/// One training run of `backprop train`: the normalized data, the model and its trainer,
/// fresh from settings or restored from a full checkpoint.
final class TrainingRun {
    let settings: TrainSettings
    let data: LoadedData
    let normalizer: Normalizer
    let trainer: Trainer
    /// Normalized training and test sets.
    let train: Dataset
    let test: Dataset?
    /// The checkpoint this run was resumed from, if any.
    private(set) var resumedFrom: String?

    /// Samples per minibatch: the settings' batch size, at most the whole training set (as a
    /// PyTorch DataLoader gives one short batch), so no index arithmetic can overflow.
    var batchSize: Int { min(settings.batchSize, train.count) }

    /// A new run.
    convenience init(settings: TrainSettings, data: LoadedData, backend: any Backend,
                     communicator: any Communicator = SingleProcessCommunicator()) throws {
        let normalizer = Normalizer(fitting: settings.normalize.normalization, to: data.train)
        let trainer = Trainer(model: try settings.makeModel(for: data.train), loss: settings.loss.loss,
                              optimizer: settings.makeOptimizer(), backend: backend, seed: settings.seed,
                              communicator: communicator)
        try self.init(settings: settings, data: data, normalizer: normalizer, trainer: trainer)
    }

    /// The run saved in the full checkpoint at `path`, to continue it; `epochs` changes the total.
    convenience init(resuming path: String, epochs: Int?, backend: any Backend,
                     communicator: any Communicator = SingleProcessCommunicator()) throws {
        let checkpoint = try ModelCheckpoint.load(from: path)
        guard let optimizer = checkpoint.optimizer, let state = checkpoint.trainingState,
              let text = checkpoint.settings else {
            throw CLIError("\(path) is not a full checkpoint (it has no optimizer state, training progress or settings); "
                + "only files written by 'backprop train --save' can be resumed")
        }
        var settings = try TrainSettings.decode(text, path: path)
        try settings.validate(path: path)
        if let epochs {
            guard epochs >= state.epochsCompleted + (state.batchesCompleted > 0 ? 1 : 0) else {
                throw CLIError("--epochs \(epochs) is less than the \(state.epochsCompleted) epochs \(path) has already trained")
            }
            settings.epochs = epochs
        }
        try TrainingRun.checkOutputs(save: nil, report: nil, resume: path, data: settings.data)
        let data = try loadData(settings)
        if let saved = settings.dataFingerprint, case let now = fingerprint(data.all), now != saved {
            throw CLIError("the \(data.name) data changed since \(path) was saved (then \(saved); now \(now)); "
                + "resume needs the data the run started on")
        }
        try checkTrainable(data, settings: settings)
        let batches = CheckedSize.ceilDiv(data.train.count, min(settings.batchSize, data.train.count))
        guard state.batchesCompleted < batches else {
            throw CLIError("\(path) says \(state.batchesCompleted) batches of the current epoch are done, but an epoch "
                + "of the \(data.name) data has \(batches); the checkpoint is damaged or the data changed")
        }
        let trainer = Trainer(model: checkpoint.model, loss: checkpoint.loss, optimizer: optimizer,
                              backend: backend, seed: settings.seed, communicator: communicator)
        trainer.state = state
        let normalizer = checkpoint.normalizer ?? Normalizer(fitting: .none, to: data.train)
        try self.init(settings: settings, data: data, normalizer: normalizer, trainer: trainer)
        resumedFrom = path
    }

    /// Checks the outputs before any work; see ``checkOutputs(_:inputs:allowed:)``. `save` may
    /// replace the `resume` checkpoint (that is where a resumed run saves by default).
    static func checkOutputs(save: String?, report: String?, resume: String?, data: String?) throws {
        var outputs = [NamedPath]()
        if let save { outputs.append(NamedPath(option: "--save", path: save)) }
        if let report { outputs.append(NamedPath(option: "--report", path: report)) }
        var inputs = [NamedPath]()
        if let resume { inputs.append(NamedPath(option: "--resume", path: resume)) }
        if let data { inputs.append(NamedPath(option: "--data", path: data)) }
        try BackpropCLI.checkOutputs(outputs, inputs: inputs, allowed: ("--save", "--resume"))
    }

    private init(settings: TrainSettings, data: LoadedData, normalizer: Normalizer, trainer: Trainer) throws {
        self.settings = settings
        self.data = data
        self.normalizer = normalizer
        self.trainer = trainer
        if settings.arch != nil {
            try checkArchitecture(trainer.model, data: data.train, batchSize: min(settings.batchSize, data.train.count))
        }
        train = try normalizer.apply(to: data.train)
        test = try data.test.map { try normalizer.apply(to: $0) }
        trainer.clipGradNorm = settings.clipGradNorm
    }

    /// The checkpoint of the run as it stands.
    var checkpoint: ModelCheckpoint {
        get throws {
            return ModelCheckpoint(
                model: trainer.model, loss: trainer.loss, normalizer: normalizer,
                classCount: settings.loss == .bce ? 2 : train.labels != nil ? train.outputCount : nil,
                imageShape: train.imageShape,
                inputShape: train.sampleShape,
                settings: try settings.json, optimizer: trainer.optimizer,
                trainingState: trainer.state)
        }
    }

    /// Trains to the settings' epoch count with progress, then prints the result and saves.
    /// On SIGINT/SIGTERM/SIGHUP, saves (when `save` is set) and exits with 130/143/129.
    func train(save: String?, report: String?, json: Bool, threads: Int, progress: ProgressDisplay) throws {
        let backend = trainer.backend
        // Fail before training, not after it, when an output cannot be written.
        try Self.checkOutputs(save: save, report: report, resume: resumedFrom, data: settings.data)
        // Every layer must be describable before training, or the save at the end would fail.
        if save != nil { _ = try Architecture.describe(trainer.model) }
        progress.note("\(data.name): \(describe(data))")
        progress.note("model: \(settings.layerSummary) · \(trainer.model.parameterCount) parameters · "
            + "\(settings.loss.rawValue) · \(settings.optimizerSummary) · batch \(batchSize) · \(settings.epochs) epoch\(settings.epochs == 1 ? "" : "s")")
        progress.note("backend: \(backend.name) (\(backend.detail))")
        if trainer.state.epochsCompleted > 0 || trainer.state.batchesCompleted > 0 {
            progress.note("resuming at epoch \(trainer.state.epochsCompleted + 1), batch \(trainer.state.batchesCompleted + 1)")
        }
        if resumedFrom != nil, let started = settings.backend, started != backend.name {
            // Shown even with --quiet: the results will differ from an uninterrupted run.
            writeStderr("note: the run started on the \(started) backend and continues on \(backend.name); "
                + "the result will not be bit-identical to an uninterrupted run (--backend \(started) makes it so)\n")
        }

        Interrupts.install()
        trainer.shouldStop = { Interrupts.requested != nil }
        let clock = ContinuousClock()
        let start = clock.now
        let epochsBefore = trainer.state.history.count
        let outcome: FitOutcome
        do {
            outcome = try trainer.fit(train, validation: test, epochs: settings.epochs, batchSize: batchSize,
                                      onBatch: progress.batch, onEpoch: progress.epoch)
        } catch {
            progress.clearBar()
            throw error
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18

        if outcome == .stopped {  // by a signal here, or under MPI on another rank
            progress.clearBar()
            try interrupted(by: Interrupts.requested ?? SIGTERM, save: save)
        }
        guard trainer.communicator.isRoot else { return }
        // A split too small to hold any sample out has no test result (not accuracy 0 of 0).
        let evaluated: Dataset? = test.map { $0.count > 0 ? $0 : nil } ?? train
        let evaluation = try evaluated.map { try trainer.evaluate($0) }
        if let save { try checkpoint.save(to: save) }
        if let report {
            try writeHTMLReport(to: report, run: self, evaluation: evaluation, backend: backend, seconds: seconds)
        }
        let newEpochs = trainer.state.history.dropFirst(epochsBefore)
        let trainSeconds = newEpochs.reduce(0) { $0 + $1.seconds }
        let samplesPerSecond = Double(newEpochs.count * train.count) / max(trainSeconds, 1e-9)
        if json {
            printJSON(.object([
                ("backend", .string(backend.name)),
                ("threads", .int(threads)),
                ("dataset", .string(settings.dataset.rawValue)),
                ("epochs", .int(trainer.state.epochsCompleted)),
                ("parameters", .int(trainer.model.parameterCount)),
                ("train_loss", .number(trainer.state.history.last?.trainLoss)),
                ("test_loss", .number(evaluation?.loss)),
                ("test_accuracy", .number(evaluation?.classification?.accuracy)),
                ("test_samples", .int(evaluation?.count ?? 0)),
                ("samples_per_second", .number(newEpochs.isEmpty ? nil : samplesPerSecond)),
                ("seconds", .number(seconds)),
                ("saved", .string(save)),
            ]))
        } else {
            let which = test == nil ? "train" : "test"
            var line: String
            switch evaluation {
            case .classification(let result):
                line = "\(which) accuracy \(fixed(result.accuracy, 4)) (\(result.correct)/\(result.support.reduce(0, +)))"
            case .regression(let result):
                line = "\(which) loss \(fixed(result.loss, 4)) · mean absolute error \(fixed(result.meanAbsoluteError, 4))"
            case nil:
                line = "no test samples (the \(fixed((settings.testSplit), 2)) split of \(data.all.count) held none out)"
            }
            if !newEpochs.isEmpty { line += " · \(rate(samplesPerSecond)) samples/s" }
            writeStdout(line + " · \(duration(seconds))\n")
            if let save { progress.note("saved \(save)") }
            if let report { progress.note("report \(report)") }
        }
    }

    /// Saves the checkpoint (when asked), says how to resume, and exits with 128 + signal.
    private func interrupted(by sig: Int32, save: String?) throws -> Never {
        let state = trainer.state
        let batches = CheckedSize.ceilDiv(train.count, batchSize)
        let position = state.batchesCompleted == 0
            ? "after epoch \(state.epochsCompleted)"
            : "at epoch \(state.epochsCompleted + 1), batch \(state.batchesCompleted)/\(batches)"
        if !trainer.communicator.isRoot {
            throw ExitCode(Interrupts.exitStatus(for: sig))
        } else if let save {
            try checkpoint.save(to: save)
            writeStderr("interrupted \(position); saved \(save); resume with: backprop train --resume \(shellQuoted(save))\n")
        } else {
            writeStderr("interrupted \(position); nothing saved (train with --save FILE to be able to resume)\n")
        }
        throw ExitCode(Interrupts.exitStatus(for: sig))
    }
}

/// `path` quoted for a POSIX shell when it needs to be.
func shellQuoted(_ path: String) -> String {
    let safe = path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:,@".contains($0) }
    return safe && !path.isEmpty ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Refuses data a run cannot learn from: a classifier with a single class (it would score
/// 100% by always answering that class), or a network whose memory estimate does not fit.
func checkTrainable(_ data: LoadedData, settings: TrainSettings) throws {
    if case .labels(_, let classes) = data.train.targets, classes < 2 {
        throw CLIError("the \(data.name) data has one class (every label is 0), so a classifier has nothing to learn; "
            + "give labels of at least two classes")
    }
    // An --arch network is sized by Architecture.build's per-layer caps instead.
    guard settings.arch == nil else { return }
    try checkFitsInMemory(settings.layers, batchSize: min(settings.batchSize, data.train.count),
                          classes: data.train.labels != nil ? data.train.outputCount : nil)
}
