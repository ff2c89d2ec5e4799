import Backprop

/// The memory a training run needs, estimated before any of it is allocated, so a typo such as
/// `--hidden 6400000`, a batch of millions or a CSV label of 1000000 (the class count is the
/// largest label + 1) is one error naming the estimate and the limit, not an out-of-memory trap.
struct MemoryEstimate {
    /// Weights, biases and their gradients.
    var parameters = 0.0
    /// Optimizer slots (momentum or Adam's two moments) and the checkpoint's copy for saving.
    var optimizerAndSave = 0.0
    /// Layer outputs and their gradients for one minibatch (and one evaluation batch).
    var activations = 0.0
    /// The confusion matrix and per-class counts of evaluation and the report.
    var perClass = 0.0

    var total: Double { parameters + optimizerAndSave + activations + perClass }

    /// The estimate for dense layers of `widths` trained in batches of `batchSize`.
    /// Sizes are Doubles: a forged or mistyped width cannot overflow, only exceed the limit.
    // widths [a, b, c]: parameters a·b + b + b·c + c; activations batch · (a + 2b + 2c) floats
    init(widths: [Int], batchSize: Int, classes: Int?) {
        let float = 4.0
        var count = 0.0
        for (a, b) in zip(widths, widths.dropFirst()) { count += Double(a) * Double(b) + Double(b) }
        parameters = count * float * 2
        // Two optimizer slots at most (Adam), the transposed copy and the encoded bytes on save.
        optimizerAndSave = count * float * 4
        // Each layer keeps its output (pre- and post-activation) and the gradient flowing back.
        let rows = Double(max(batchSize, 512))
        activations = rows * widths.reduce(0.0) { $0 + Double($1) } * float * 4
        if let classes { perClass = Double(classes) * Double(classes) * 8 }
    }

    /// Throws when the estimate exceeds this machine's physical memory.
    /// - Throws: ``CLIError`` with the network, the estimate by part and the limit.
    func check(widths: [Int], batchSize: Int, classes: Int?) throws {
        let memory = Double(MemoryLimits.physicalBytes)
        guard memory > 0, total > memory else { return }
        let shape = widths.map(String.init).joined(separator: " → ")
        let parameterCount = zip(widths, widths.dropFirst()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) + Double($1.1) }
        var parts = ["parameters and gradients \(gibibytes(parameters)) GiB", "optimizer state and save buffer \(gibibytes(optimizerAndSave)) GiB",
                     "activations for batches of \(batchSize) \(gibibytes(activations)) GiB"]
        if let classes { parts.append("\(classes)×\(classes) confusion matrix \(gibibytes(perClass)) GiB") }
        let count = parameterCount < 9e18 ? String(Int(parameterCount)) : "about \(parameterCount)"
        var hint = "use narrower layers or smaller batches"
        if let classes, perClass >= total / 2 || widths.last == widths.max() {
            hint = "the output width is the class count \(classes), the largest label + 1: are the labels class ids 0, 1, 2, ...?"
        }
        throw CLIError("a \(shape) network has \(count) parameters and needs about \(gibibytes(total)) GiB to train "
            + "(\(parts.joined(separator: ", "))), more than this machine's \(gibibytes(memory)) GiB of memory; \(hint)")
    }
}

/// Refuses a run whose memory estimate exceeds this machine's memory; see ``MemoryEstimate``.
func checkFitsInMemory(_ widths: [Int], batchSize: Int, classes: Int?) throws {
    try MemoryEstimate(widths: widths, batchSize: batchSize, classes: classes)
        .check(widths: widths, batchSize: batchSize, classes: classes)
}

/// `bytes` in GiB with one decimal, e.g. "23.5"; "∞" past what a Double prints plainly.
func gibibytes(_ bytes: Double) -> String {
    let g = bytes / Double(1 << 30)
    guard g < 1e15 else { return "∞" }
    return String((g * 10).rounded() / 10)
}

extension MemoryEstimate {
    /// The estimate for `model` (any layers, `--arch` or a checkpoint's) on samples of
    /// `sampleShape`, `rows` at a time; `training` adds gradients, optimizer state and the save.
    /// Activations come from each layer's output shape, so a convolution padded to a huge
    /// image (`conv2d:1:4:3:pad=3000`) counts its (C·k·k, N·H'·W') im2col buffers.
    // per sample: Σ 3·|output| (+ for conv2d 2·C·k·k·H'·W' + out·H'·W'); floats of 4 bytes
    init(model: Sequential, sampleShape: [Int], rows: Int, training: Bool, classes: Int?) throws {
        let float = 4.0
        let count = Double(model.parameterCount)
        parameters = count * float * (training ? 2 : 1)
        optimizerAndSave = training ? count * float * 4 : 0
        var perSample = Double(sampleShape.reduce(1) { $0 * Double($1) })
        func walk(_ layers: [any Layer], _ shape: [Int]) throws -> [Int] {
            var shape = shape
            for layer in layers {
                if let inner = layer as? Sequential {
                    shape = try walk(inner.layers, shape)
                    continue
                }
                let output = try layer.outputShape(forInputShape: shape)
                let outputCount = output.reduce(1.0) { $0 * Double($1) }
                perSample += 3 * outputCount
                if let conv = layer as? Conv2d, output.count == 3 {
                    let positions = Double(output[1]) * Double(output[2])
                    perSample += 2 * Double(conv.inChannels * conv.kernelSize) * Double(conv.kernelSize) * positions
                        + Double(conv.outChannels) * positions
                }
                shape = output
            }
            return shape
        }
        _ = try walk(model.layers, sampleShape)
        activations = Double(rows) * perSample * float
        if let classes { perClass = Double(classes) * Double(classes) * 8 }
    }
}

/// Refuses to run `model` when its memory estimate exceeds this machine's memory; see
/// ``MemoryEstimate/init(model:sampleShape:rows:training:classes:)``.
/// - Throws: ``CLIError`` naming the network (`what`), the estimate by part and the limit.
func checkFitsInMemory(_ model: Sequential, what: String, sampleShape: [Int], rows: Int, training: Bool,
                       classes: Int?) throws {
    let estimate = try MemoryEstimate(model: model, sampleShape: sampleShape, rows: rows, training: training,
                                      classes: classes)
    let memory = Double(MemoryLimits.physicalBytes)
    guard memory > 0, estimate.total > memory else { return }
    var parts = [training ? "parameters and gradients \(gibibytes(estimate.parameters)) GiB"
                          : "parameters \(gibibytes(estimate.parameters)) GiB"]
    if training { parts.append("optimizer state and save buffer \(gibibytes(estimate.optimizerAndSave)) GiB") }
    parts.append("activations for \(rows) samples of shape \(sampleShape.map(String.init).joined(separator: "x")) "
        + "\(gibibytes(estimate.activations)) GiB")
    if let classes { parts.append("\(classes)×\(classes) confusion matrix \(gibibytes(estimate.perClass)) GiB") }
    throw CLIError("\(what) needs about \(gibibytes(estimate.total)) GiB to \(training ? "train" : "run") "
        + "(\(parts.joined(separator: ", "))), more than this machine's \(gibibytes(memory)) GiB of memory; "
        + (training ? "use smaller layers, images or batches" : "give fewer rows at a time"))
}
