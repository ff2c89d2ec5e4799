import Backprop

/// Writes the HTML report of `train --report`: curves, confusion matrix, first-layer weights
/// (as image tiles when the inputs are images) and a summary of the run.
func writeHTMLReport(to path: String, run: TrainingRun, evaluation: Evaluation?, backend: any Backend,
                     seconds: Double) throws {
    let settings = run.settings
    let tiles = HTMLReport.firstLayerTiles(of: run.trainer.model, imageShape: run.train.imageShape)
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
        firstLayerWeights: tiles?.weights, imageShape: tiles?.tileShape, summary: summary, to: path)
}
