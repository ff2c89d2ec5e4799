import Backprop

/// Writes the HTML report of `train --report`: curves, confusion matrix, first-layer weights
/// (as image tiles when the inputs are images) and a summary of the run.
func writeHTMLReport(to path: String, run: TrainingRun, evaluation: Evaluation?, backend: any Backend,
                     seconds: Double) throws {
    let settings = run.settings
    let (firstWeights, tileShape) = firstLayerTiles(of: run.trainer.model, imageShape: run.train.imageShape)
    var summary: [(String, String)] = [
        ("dataset", "\(run.data.name): \(describe(run.data))"),
        ("model", "\(settings.layerSummary) · \(run.trainer.model.parameterCount) parameters"),
        ("loss", settings.loss.rawValue),
        ("optimizer", "\(settings.optimizerSummary) · batch \(run.batchSize)"),
        ("epochs", String(run.trainer.state.epochsCompleted)),
        ("backend", "\(backend.name) (\(backend.detail))"),
        ("seed", String(settings.seed)),
        ("\(run.test == nil ? "train" : "test") loss", evaluation.map { fixed($0.loss, 4) } ?? "no test samples"),
    ]
    if let accuracy = evaluation?.classification?.accuracy {
        summary.append(("\(run.test == nil ? "train" : "test") accuracy", fixed(accuracy, 4)))
    }
    summary.append(("training time", duration(seconds)))
    try HTMLReport.write(
        title: "backprop train · \(run.data.name)", history: run.trainer.state.history, evaluation: evaluation,
        firstLayerWeights: firstWeights, imageShape: tileShape, summary: summary, to: path)
}

/// What the report draws as tiles: the first layer's weights as (pixels, units) with the tile
/// shape. A first Conv2d gives one k×k tile per filter (its first input channel): the matrix
/// (k·k, out) with column o = weight[o, 0, :, :]. A first Dense gives one tile per hidden unit.
func firstLayerTiles(of model: Sequential, imageShape: (height: Int, width: Int)?) -> (Tensor?, (height: Int, width: Int)?) {
    if let conv = model.layers.first as? Conv2d {
        let k = conv.kernelSize, perFilter = conv.inChannels * k * k
        let tiles = Tensor(rows: k * k, cols: conv.outChannels)
        for o in 0..<conv.outChannels {
            for p in 0..<(k * k) { tiles[p, o] = conv.weight.value.data[o * perFilter + p] }
        }
        return (tiles, (k, k))
    }
    let firstDense = model.layers.first { $0 is Dense } as? Dense
    return (firstDense?.weight.value, imageShape)
}
