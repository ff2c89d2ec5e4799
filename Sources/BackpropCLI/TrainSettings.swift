import ArgumentParser
import Foundation
import Backprop

/// The `--activation` choices.
enum ActivationOption: String, CaseIterable, Codable, ExpressibleByArgument {
    case relu, sigmoid, tanh
}

/// The `--loss` choices.
enum LossOption: String, CaseIterable, Codable, ExpressibleByArgument {
    case crossEntropy = "cross-entropy"
    case mse
    /// Binary cross-entropy on one output unit (a logit): targets 0 or 1.
    case bce

    var loss: Loss {
        switch self {
        case .crossEntropy: .crossEntropy()
        case .mse: .mse()
        case .bce: .binaryCrossEntropy()
        }
    }

    /// The option for a checkpoint's loss.
    init(_ loss: Loss) {
        switch loss.kind {
        case .crossEntropy: self = .crossEntropy
        case .mse: self = .mse
        case .binaryCrossEntropy: self = .bce
        }
    }
}

/// The `--optimizer` choices.
enum OptimizerKind: String, CaseIterable, Codable, ExpressibleByArgument {
    case sgd, adam, adamw
}

/// Everything that determines a training run, resolved from the flags and the dataset's
/// defaults. Saved as JSON in checkpoints (`settings`), so `--resume` and `eval` can rebuild
/// the same data, split and optimizer.
struct TrainSettings: Codable, Equatable {
    var dataset: DatasetKind
    /// Absolute path of the MNIST directory or CSV file.
    var data: String?
    var labelColumn: String?
    var testSplit: Double
    var normalize: NormalizationOption
    /// Every width, input and output included, e.g. [64, 32, 10].
    var layers: [Int]
    var activation: ActivationOption
    var loss: LossOption
    var optimizer: OptimizerKind
    var learningRate: Float
    var momentum: Float
    /// SGD with Nesterov momentum (nil in older files: false).
    var nesterov: Bool?
    /// Adam's and AdamW's moment decay rates and epsilon (nil: 0.9, 0.999, 1e-8).
    var beta1: Float?
    var beta2: Float?
    var epsilon: Float?
    var weightDecay: Float
    var epochs: Int
    var batchSize: Int
    var seed: UInt64
    var clipGradNorm: Float?
    /// The backend the run started on, so a resume on another one can say so (nil in older files).
    var backend: String?
    /// ``fingerprint(_:)`` of the data the run started on, so a resume notices changed data.
    var dataFingerprint: String?
    /// `--arch` text (after preset expansion); when set, `layers` and `activation` are unused.
    var arch: String?
    /// `--input-shape`, e.g. [3, 32, 32].
    var inputShape: [Int]?

    /// The network: `--arch` checked against the data's sample shape and outputs, else dense
    /// layers of these widths with the activation between them, logits out.
    func makeModel(for data: Dataset) throws -> Sequential {
        guard let arch else { return makeDenseModel() }
        let model: Sequential
        do {
            model = try Architecture.build(arch, seed: seed, inputShape: data.sampleShape)
        } catch BackpropError.invalidArgument(let message) {
            throw CLIError("--arch: \(message) (samples have shape \(data.sampleShape.map(String.init).joined(separator: ",")))")
        }
        let outputShape = try model.outputShape(forInputShape: data.sampleShape)
        guard let outputs = CheckedSize.product(outputShape), outputs == data.outputCount else {
            let count = CheckedSize.product(outputShape).map(String.init) ?? outputShape.map(String.init).joined(separator: "x")
            throw CLIError("--arch: the network outputs \(count) values per sample but the data has \(data.outputCount) "
                + (data.labels != nil ? "classes" : "targets"))
        }
        return model
    }

    // widths [a, b, c] -> Dense(a, b), act, Dense(b, c)
    private func makeDenseModel() -> Sequential {
        var layers = [any Layer]()
        for i in 0..<(self.layers.count - 1) {
            let last = i == self.layers.count - 2
            let initializer: Initializer = activation == .relu && !last ? .heUniform : .xavierUniform
            layers.append(Dense(self.layers[i], self.layers[i + 1], initializer: initializer))
            if !last {
                switch activation {
                case .relu: layers.append(ReLU())
                case .sigmoid: layers.append(Sigmoid())
                case .tanh: layers.append(Tanh())
                }
            }
        }
        return Sequential(layers, seed: seed)
    }

    /// A fresh optimizer with these settings.
    func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .sgd:
            SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov ?? false)
        case .adam:
            Adam(learningRate: learningRate, beta1: beta1 ?? Self.defaultBeta1, beta2: beta2 ?? Self.defaultBeta2,
                 epsilon: epsilon ?? Self.defaultEpsilon, weightDecay: weightDecay)
        case .adamw:
            AdamW(learningRate: learningRate, beta1: beta1 ?? Self.defaultBeta1, beta2: beta2 ?? Self.defaultBeta2,
                  epsilon: epsilon ?? Self.defaultEpsilon, weightDecay: weightDecay)
        }
    }

    /// Adam's defaults, as PyTorch's `torch.optim.Adam`.
    static let defaultBeta1: Float = 0.9, defaultBeta2: Float = 0.999, defaultEpsilon: Float = 1e-8

    /// `64 → 32 → 10 (relu)`.
    var layerSummary: String {
        if let arch { return arch }
        return layers.map(String.init).joined(separator: " → ") + (layers.count > 2 ? " (\(activation.rawValue))" : "")
    }

    /// `sgd lr 0.1`, with momentum and decay when set.
    var optimizerSummary: String {
        var text = "\(optimizer.rawValue) lr \(learningRate)"
        if momentum != 0 { text += (nesterov == true ? " nesterov" : "") + " momentum \(momentum)" }
        if let beta1, beta1 != Self.defaultBeta1 { text += " beta1 \(beta1)" }
        if let beta2, beta2 != Self.defaultBeta2 { text += " beta2 \(beta2)" }
        if let epsilon, epsilon != Self.defaultEpsilon { text += " eps \(epsilon)" }
        if weightDecay != 0 { text += " weight decay \(weightDecay)" }
        return text
    }
}

/// Per-dataset defaults, chosen so each trains to a good accuracy in seconds.
struct DatasetDefaults {
    var hidden: [Int]
    var activation: ActivationOption
    var epochs: Int
    var batchSize: Int
    var sgdLearningRate: Float
    var normalize: NormalizationOption

    static func of(_ kind: DatasetKind) -> DatasetDefaults {
        switch kind {
        case .digits: DatasetDefaults(hidden: [64], activation: .relu, epochs: 40, batchSize: 32, sgdLearningRate: 0.1, normalize: .standardize)
        case .edges: DatasetDefaults(hidden: [16], activation: .relu, epochs: 10, batchSize: 32, sgdLearningRate: 0.1, normalize: .none)
        case .xor: DatasetDefaults(hidden: [8], activation: .tanh, epochs: 300, batchSize: 4, sgdLearningRate: 0.5, normalize: .none)
        case .mnist: DatasetDefaults(hidden: [128], activation: .relu, epochs: 5, batchSize: 64, sgdLearningRate: 0.1, normalize: .none)
        case .csv: DatasetDefaults(hidden: [32], activation: .relu, epochs: 20, batchSize: 32, sgdLearningRate: 0.1, normalize: .standardize)
        }
    }
}

extension TrainSettings {
    /// The settings as compact JSON with sorted snake_case keys, as stored in checkpoints.
    var json: String {
        get throws {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        }
    }

    /// The settings stored in the checkpoint at `path`.
    /// - Throws: ``BackpropError/malformedFile(path:location:message:)`` when they do not parse.
    static func decode(_ text: String, path: String) throws -> TrainSettings {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(TrainSettings.self, from: Data(text.utf8))
        } catch {
            throw BackpropError.malformedFile(path: path, location: "metadata 'settings'",
                                              message: "not the settings of a 'backprop train' run")
        }
    }
}

extension TrainSettings {
    /// Checks settings read from a checkpoint by the rules the flags follow, so a forged file
    /// cannot resume with what the command line refuses (a negative clip norm would climb the
    /// gradient, momentum 2 diverges).
    /// - Throws: ``BackpropError/malformedFile(path:location:message:)`` naming the field.
    func validate(path: String) throws {
        func fail(_ message: String) -> BackpropError {
            .malformedFile(path: path, location: "metadata 'settings'", message: message)
        }
        guard learningRate.isFinite, learningRate > 0 else { throw fail("learning_rate \(learningRate) is not positive") }
        guard momentum >= 0, momentum < 1 else { throw fail("momentum \(momentum) is outside [0, 1)") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("weight_decay \(weightDecay) is negative or not finite") }
        if nesterov == true, !(optimizer == .sgd && momentum > 0) {
            throw fail("nesterov needs sgd with a positive momentum")
        }
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] {
            if let beta, !(beta >= 0 && beta < 1) { throw fail("\(name) \(beta) is outside [0, 1)") }
        }
        if let epsilon, !(epsilon.isFinite && epsilon > 0) { throw fail("epsilon \(epsilon) is not a positive number") }
        guard epochs >= 1, batchSize >= 1 else { throw fail("epochs \(epochs) and batch_size \(batchSize) must be at least 1") }
        guard testSplit >= 0, testSplit < 1 else { throw fail("test_split \(testSplit) is outside [0, 1)") }
        if let clipGradNorm, !(clipGradNorm.isFinite && clipGradNorm > 0) {
            throw fail("clip_grad_norm \(clipGradNorm) is not a positive number")
        }
        guard arch != nil || (layers.count >= 2 && layers.allSatisfy({ $0 >= 1 })) else {
            throw fail("layers \(layers) are not widths")
        }
    }
}
