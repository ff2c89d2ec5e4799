import ArgumentParser
import Backprop

/// `train`'s model options.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Every layer width, input and output included, e.g. 64,32,10. The first must be the data's feature count and the last its class count.",
        valueName: "widths"))
    var layers: String?

    @Option(help: ArgumentHelp(
        "Hidden layer widths only, e.g. 128,64; input and output widths come from the data. Default: digits 64, csv 32, edges 16, xor 8, mnist 128.",
        valueName: "widths"))
    var hidden: String?

    @Option(help: ArgumentHelp(
        "The network as architecture text, e.g. conv2d:1:6:5:pad=2,relu,maxpool2d:2,flatten,dense:1176:10 (kinds: dense:IN:OUT, conv2d:IN:OUT:K[:stride=S][:pad=P], maxpool2d:K[:stride=S], avgpool2d:K[:stride=S], flatten, dropout:P, batchnorm1d:N, batchnorm2d:C, globalavgpool2d, relu, sigmoid, tanh, softmax), or the preset 'lenet'.",
        valueName: "text"))
    var arch: String?

    @Option(help: ArgumentHelp("The activation between dense layers (relu, sigmoid, tanh). Default: relu (tanh for xor).",
                               valueName: "name"))
    var activation: ActivationOption?

    @Option(help: ArgumentHelp("The loss (cross-entropy, mse, bce). bce is binary cross-entropy on one output unit: labels or a target column of 0s and 1s. Default: cross-entropy.", valueName: "name"))
    var loss: LossOption?

    @Option(help: ArgumentHelp(
        "Feature normalization fitted on the training split and saved with the model (none, scale, standardize). Default: standardize for digits and csv, none otherwise.",
        valueName: "kind"))
    var normalize: NormalizationOption?

    func validate() throws {
        if layers != nil && hidden != nil { throw ValidationError("use either --layers or --hidden, not both") }
        if arch != nil && (layers != nil || hidden != nil || activation != nil) {
            throw ValidationError("--arch describes the whole network; do not combine it with --layers, --hidden or --activation")
        }
        if let arch, arch.isEmpty { throw ValidationError("--arch is empty; give architecture text or 'lenet'") }
        if let layers {
            let widths = try parseWidths(layers, option: "--layers")
            if widths.count < 2 { throw ValidationError("--layers needs at least an input and an output width, e.g. 64,10") }
        }
        if let hidden { _ = try parseWidths(hidden, option: "--hidden") }
    }
}

/// `train`'s optimization options.
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The optimizer (sgd, adam, adamw). Default: sgd.", valueName: "name"))
    var optimizer: OptimizerKind?

    @Option(name: .customLong("lr"), help: ArgumentHelp(
        "The learning rate. Default: 0.1 for sgd (0.5 for xor), 0.001 for adam and adamw.", valueName: "rate"))
    var learningRate: Float?

    @Option(help: ArgumentHelp("SGD momentum in [0, 1). Default: 0.", valueName: "μ"))
    var momentum: Float?

    @Flag(help: "SGD with Nesterov momentum (needs --momentum above 0), as PyTorch's SGD(nesterov=True).")
    var nesterov = false

    @Option(help: ArgumentHelp("Adam/AdamW: decay rate of the first-moment (mean) estimate, in [0, 1). Default: 0.9.",
                               valueName: "β₁"))
    var beta1: Float?

    @Option(help: ArgumentHelp("Adam/AdamW: decay rate of the second-moment estimate, in [0, 1). Default: 0.999.",
                               valueName: "β₂"))
    var beta2: Float?

    @Option(name: .customLong("eps"), help: ArgumentHelp(
        "Adam/AdamW: the epsilon added to the denominator, a positive number. Default: 1e-8.", valueName: "ε"))
    var epsilon: Float?

    @Option(help: ArgumentHelp(
        "Weight decay: L2 for sgd and adam, decoupled for adamw. Default: 0 (0.01 for adamw).", valueName: "λ"))
    var weightDecay: Float?

    @Option(help: ArgumentHelp("Epochs in total. Default: digits 40, csv 20, edges 10, xor 300, mnist 5.", valueName: "n"))
    var epochs: Int?

    @Option(help: ArgumentHelp("Samples per minibatch. Default: 32 (xor 4, mnist 64).", valueName: "n"))
    var batchSize: Int?

    @Option(help: ArgumentHelp("Seeds the weights, the train/test split and the shuffling. Default: 1.", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Rescale gradients whose global L2 norm exceeds this value.", valueName: "norm"))
    var clipGradNorm: Float?

    func validate() throws {
        if let learningRate, !(learningRate.isFinite && learningRate > 0) {
            throw ValidationError("--lr must be a positive number, got \(learningRate)")
        }
        if let momentum, !(momentum >= 0 && momentum < 1) {
            throw ValidationError("--momentum must be in [0, 1), got \(momentum)")
        }
        if let momentum, momentum != 0, let optimizer, optimizer != .sgd {
            throw ValidationError("--momentum applies to sgd only; adam and adamw keep their own moment estimates")
        }
        for (name, beta) in [("--beta1", beta1), ("--beta2", beta2)] {
            if let beta, !(beta >= 0 && beta < 1) { throw ValidationError("\(name) must be in [0, 1), got \(beta)") }
        }
        if let epsilon, !(epsilon.isFinite && epsilon > 0) {
            throw ValidationError("--eps must be a positive number, got \(epsilon)")
        }
        if let weightDecay, !(weightDecay.isFinite && weightDecay >= 0) {
            throw ValidationError("--weight-decay must be zero or positive, got \(weightDecay)")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let clipGradNorm, !(clipGradNorm.isFinite && clipGradNorm > 0) {
            throw ValidationError("--clip-grad-norm must be a positive number, got \(clipGradNorm)")
        }
    }

    /// Checks that the optimizer options fit the optimizer (sgd unless --optimizer says
    /// otherwise); called after the --resume check, which refuses them all when resuming.
    func validateOptimizerFit() throws {
        let optimizer = optimizer ?? .sgd
        if nesterov {
            guard optimizer == .sgd else { throw ValidationError("--nesterov applies to sgd only, not \(optimizer.rawValue)") }
            guard let momentum, momentum > 0 else {
                throw ValidationError("--nesterov needs a momentum above 0 (give --momentum, e.g. 0.9)")
            }
        }
        if optimizer == .sgd, let name = [("--beta1", beta1 != nil), ("--beta2", beta2 != nil), ("--eps", epsilon != nil)]
            .first(where: { $0.1 })?.0 {
            throw ValidationError("\(name) applies to adam and adamw only; give --optimizer adam or adamw")
        }
    }
}

/// `train`'s output options.
struct TrainOutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Save the trained model as a full checkpoint (weights, optimizer state, progress, settings); also written when training is interrupted.",
        valueName: "file.safetensors"))
    var save: String?

    @Option(help: ArgumentHelp("Write an HTML report: learning curves, confusion matrix, first-layer weights.",
                               valueName: "file.html"))
    var report: String?

    @Flag(help: "Print one JSON object with the results instead of the result line.")
    var json = false

    @Flag(help: "Print no progress, only the result.")
    var quiet = false
}

/// Parses `64,32,10` into positive widths.
func parseWidths(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    var widths = [Int]()
    for part in parts {
        let trimmed = part.trimmingCharacters(in: " ")
        guard let width = Int(trimmed) else {
            throw ValidationError("\(option) '\(text)': '\(trimmed)' is not a whole number; give comma-separated widths such as 64,32,10")
        }
        guard width >= 1 else { throw ValidationError("\(option) '\(text)': widths must be at least 1, got \(width)") }
        widths.append(width)
    }
    return widths
}

extension Substring {
    /// The text without leading and trailing `character`s.
    func trimmingCharacters(in character: Character) -> String {
        var s = self
        while s.first == character { s = s.dropFirst() }
        while s.last == character { s = s.dropLast() }
        return String(s)
    }
}
