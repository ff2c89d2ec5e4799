import Backprop

/// Checks an `--arch` network (new, or resumed from its checkpoint) against the training
/// data before any work: its memory estimate, and batch normalization's need for more than
/// one value per channel in every training batch.
/// - Throws: ``CLIError`` saying what does not fit and what to change.
func checkArchitecture(_ model: Sequential, data: Dataset, batchSize: Int) throws {
    try checkFitsInMemory(model, what: "the --arch network", sampleShape: data.sampleShape,
                          rows: max(batchSize, 512), training: true,
                          classes: data.labels != nil ? data.outputCount : nil)
    try checkBatchStatistics(model, sampleShape: data.sampleShape, samples: data.count, batchSize: batchSize)
}

/// Refuses training batches in which a batch-normalization layer would see one value per
/// channel (a batch of one sample before `batchnorm1d`, or of one 1×1 image before
/// `batchnorm2d`): its variance is 0, so it outputs β whatever the input and nothing before
/// it learns. PyTorch refuses the same ("Expected more than 1 value per channel when
/// training"). The last batch of an epoch counts too: 1438 samples in batches of 1437 leave one.
func checkBatchStatistics(_ model: Sequential, sampleShape: [Int], samples: Int, batchSize: Int) throws {
    let batch = min(batchSize, samples), last = samples % batch
    var shape = sampleShape
    var path = [Int]()
    func walk(_ layers: [any Layer]) throws {
        for (index, layer) in layers.enumerated() {
            path.append(index)
            defer { path.removeLast() }
            if let inner = layer as? Sequential {
                try walk(inner.layers)
                continue
            }
            if let norm = layer as? BatchNorm {
                let perChannel = shape.dropFirst().reduce(1, *)  // H·W, or 1 for [C]
                let name = "layer \(path.map(String.init).joined(separator: ".")) (\(norm.summary))"
                if batch * perChannel == 1 {
                    throw CLIError("--arch: \(name) normalizes each channel over the batch, but a batch of one sample "
                        + "gives it one value per channel (variance 0: it would output its bias whatever the input); "
                        + "use --batch-size 2 or more")
                }
                if last != 0, last * perChannel == 1 {
                    throw CLIError("--arch: \(name) normalizes each channel over the batch, but the last batch of each "
                        + "epoch holds one sample (\(samples) = \(samples / batch) × \(batch) + 1), one value per channel; "
                        + "choose another --batch-size")
                }
            }
            shape = try layer.outputShape(forInputShape: shape)
        }
    }
    try walk(model.layers)
}
