import Backprop

/// Writes the HTML report of `train --report`: the one call site of the report generator
/// (`HTMLReport.render`, from the `trace` branch).
func writeHTMLReport(to path: String, history: [EpochReport], evaluation: Evaluation, model: Sequential,
                     imageShape: (height: Int, width: Int)?, title: String) throws {
    throw CLIError("--report: this build has no HTML report generator yet, so \(path) was not written")
}
