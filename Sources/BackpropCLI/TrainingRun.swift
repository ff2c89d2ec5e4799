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
        if let epochs {
            guard epochs >= state.epochsCompleted + (state.batchesCompleted > 0 ? 1 : 0) else {
                throw CLIError("--epochs \(epochs) is less than the \(state.epochsCompleted) epochs \(path) has already trained")
            }
            settings.epochs = epochs
        }
        let data = try loadData(settings)
        let trainer = Trainer(model: checkpoint.model, loss: checkpoint.loss, optimizer: optimizer,
                              backend: backend, seed: settings.seed, communicator: communicator)
        trainer.state = state
        let normalizer = checkpoint.normalizer ?? Normalizer(fitting: .none, to: data.train)
        try self.init(settings: settings, data: data, normalizer: normalizer, trainer: trainer)
    }

    private init(settings: TrainSettings, data: LoadedData, normalizer: Normalizer, trainer: Trainer) throws {
        self.settings = settings
        self.data = data
        self.normalizer = normalizer
        self.trainer = trainer
        train = try normalizer.apply(to: data.train)
        test = try data.test.map { try normalizer.apply(to: $0) }
        trainer.clipGradNorm = settings.clipGradNorm
    }

    /// The checkpoint of the run as it stands.
    var checkpoint: ModelCheckpoint {
        get throws {
            return ModelCheckpoint(
                model: trainer.model, loss: trainer.loss, normalizer: normalizer,
                classCount: train.labels != nil ? train.outputCount : nil, imageShape: train.imageShape,
                inputShape: train.sampleShape,
                settings: try settings.json, optimizer: trainer.optimizer,
                trainingState: trainer.state)
        }
    }

    /// Trains to the settings' epoch count with progress, then prints the result and saves.
    /// On SIGINT/SIGTERM, saves (when `save` is set) and exits with 130/143.
    func train(save: String?, report: String?, json: Bool, threads: Int, progress: ProgressDisplay) throws {
        let backend = trainer.backend
        // Fail before training, not after it, when an output cannot be written.
        for path in [save, report].compactMap({ $0 }) where !isDirectory(parentDirectory(of: path)) {
            throw CLIError("cannot write \(path): the directory \(parentDirectory(of: path)) does not exist")
        }
        // Every layer must be describable before training, or the save at the end would fail.
        if save != nil { _ = try Architecture.describe(trainer.model) }
        progress.note("\(data.name): \(describe(data))")
        progress.note("model: \(settings.layerSummary) · \(trainer.model.parameterCount) parameters · "
            + "\(settings.loss.rawValue) · \(settings.optimizerSummary) · batch \(settings.batchSize) · \(settings.epochs) epoch\(settings.epochs == 1 ? "" : "s")")
        progress.note("backend: \(backend.name) (\(backend.detail))")
        if trainer.state.epochsCompleted > 0 || trainer.state.batchesCompleted > 0 {
            progress.note("resuming at epoch \(trainer.state.epochsCompleted + 1), batch \(trainer.state.batchesCompleted + 1)")
        }

        Interrupts.install()
        trainer.shouldStop = { Interrupts.requested != nil }
        let clock = ContinuousClock()
        let start = clock.now
        let epochsBefore = trainer.state.history.count
        let outcome: FitOutcome
        do {
            outcome = try trainer.fit(train, validation: test, epochs: settings.epochs, batchSize: settings.batchSize,
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
        let evaluation = try trainer.evaluate(test ?? train)
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
                ("test_loss", .number(evaluation.loss)),
                ("test_accuracy", .number(evaluation.accuracy)),
                ("test_samples", .int(evaluation.count)),
                ("samples_per_second", .number(newEpochs.isEmpty ? nil : samplesPerSecond)),
                ("seconds", .number(seconds)),
                ("saved", .string(save)),
            ]))
        } else {
            let which = test == nil ? "train" : "test"
            var line: String
            if let accuracy = evaluation.accuracy {
                let correct = Int((accuracy * Double(evaluation.count)).rounded())
                line = "\(which) accuracy \(fixed(accuracy, 4)) (\(correct)/\(evaluation.count))"
            } else {
                line = "\(which) loss \(fixed(evaluation.loss, 4))"
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
        let batches = (train.count + settings.batchSize - 1) / settings.batchSize
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
