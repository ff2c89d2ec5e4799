import Foundation
import Testing
@testable import Backprop

/// The HTML training report: one self-contained file with charts, a confusion table, weight
/// tiles and a summary; all text escaped; nothing loaded from the network.
@Suite struct HTMLReportTests {
    static func history(_ epochs: Int, withTest: Bool = true) -> [EpochReport] {
        (1...epochs).map { e in
            EpochReport(epoch: e, epochs: epochs, trainLoss: 1 / Double(e), trainAccuracy: 0.5 + 0.04 * Double(e),
                        testLoss: withTest ? 1.2 / Double(e) : nil, testAccuracy: withTest ? 0.45 + 0.04 * Double(e) : nil,
                        samplesPerSecond: 1000, seconds: 0.1)
        }
    }

    static let evaluation = Evaluation.classification(.init(loss: 0.3, count: 15, confusion: [[5, 1], [2, 7]]))

    static func weights(_ rows: Int, _ cols: Int) -> Tensor {
        let w = Tensor(rows: rows, cols: cols)
        for i in 0..<w.count { w.data[i] = Float(i % 7) - 3 }
        return w
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test func oneSelfContainedDocumentWithEveryPart() throws {
        let html = HTMLReport.render(
            title: "Run <1>", history: Self.history(5), evaluation: Self.evaluation,
            classNames: ["cat <a>", "dog & \"co\""], firstLayerWeights: Self.weights(25, 8),
            imageShape: (5, 5), summary: [("dataset", "<script>alert('x')</script>"), ("epochs", "5")])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(Self.occurrences(of: "<html", in: html) == 1 && html.contains("</html>"))
        // One <svg> per chart: loss and accuracy.
        #expect(Self.occurrences(of: "<svg", in: html) == 2)
        #expect(Self.occurrences(of: "</svg>", in: html) == 2)
        // Weight tiles: one per hidden unit, each an embedded PNG.
        #expect(Self.occurrences(of: "<figure class=\"tile\"", in: html) == 8)
        #expect(Self.occurrences(of: "src=\"data:image/png;base64,iVBORw0KGgo", in: html) == 8)
        // Self-contained and script-free.
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.lowercased().contains("<script"))
        // Escaped text.
        #expect(html.contains("<title>Run &lt;1&gt;</title>"))
        #expect(html.contains("cat &lt;a&gt;") && html.contains("dog &amp; &quot;co&quot;"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
    }

    @Test func confusionTableHasTheCountsInOrder() throws {
        let html = HTMLReport.render(title: "t", history: Self.history(2), evaluation: Self.evaluation)
        let table = try #require(html.range(of: "<table class=\"confusion\">").map { String(html[$0.lowerBound...]) })
        let cells = try Regex(#"<td[^>]*style="background[^"]*">(\d+)</td>"#)
        let counts = table.matches(of: cells).map { Int($0.output[1].substring!)! }
        #expect(counts == [5, 1, 2, 7])
        // Rows are actual classes, with recall = diagonal / row total.
        #expect(table.contains("83.3%") && table.contains("77.8%"))
        #expect(html.contains("15 samples — accuracy 80.00%"))
    }

    @Test func accuracyChartOnlyWhenThereIsAnAccuracy() throws {
        let lossOnly = (1...3).map {
            EpochReport(epoch: $0, epochs: 3, trainLoss: 0.5, trainAccuracy: nil, testLoss: nil, testAccuracy: nil,
                        samplesPerSecond: 1, seconds: 1)
        }
        let html = HTMLReport.render(title: "regression", history: lossOnly)
        #expect(Self.occurrences(of: "<svg", in: html) == 1)
        #expect(!html.contains("Confusion matrix") && !html.contains("First-layer weights"))
        let empty = HTMLReport.render(title: "nothing", history: [])
        #expect(Self.occurrences(of: "<svg", in: empty) == 0 && empty.contains("No epochs were recorded."))
    }

    @Test func weightsThatAreNotAnImageAreExplainedNotDrawn() {
        let html = HTMLReport.render(title: "t", history: Self.history(2), firstLayerWeights: Self.weights(10, 4),
                                     imageShape: (5, 5))
        #expect(html.contains("Not drawn: the 10 inputs are not a 5×5 image."))
        #expect(Self.occurrences(of: "<figure class=\"tile\"", in: html) == 0)
    }

    @Test func chartTicksAndMissingValues() {
        let (lo, hi, step) = SVGChart.niceRange(low: 0.13, high: 2.31, ticks: 5, fromZero: true)
        #expect(lo == 0 && hi == 2.5 && step == 0.5)
        #expect(SVGChart.niceStep(0.03) == 0.05 && SVGChart.niceStep(7) == 10)
        // A missing value in the middle splits the line in two.
        let chart = SVGChart(title: "x", yLabel: "y",
                             series: [.init(name: "s", color: "#000", values: [1, 2, nil, 3, 4])])
        #expect(Self.occurrences(of: "<polyline", in: chart.render()) == 2)
        // An accuracy of 100% from the start still gets an axis that ends at 100%.
        let flat = SVGChart(title: "a", yLabel: "accuracy", series: [.init(name: "s", color: "#000", values: [1, 1, 1])],
                            yMax: 1, yFormat: { formatFixed($0 * 100, decimals: 0) + "%" }).render()
        #expect(flat.contains(">100%<") && flat.contains(">90%<") && !flat.contains(">102%<"))
    }

    @Test func pngAndBase64() {
        #expect(base64Encoded(Array("Man".utf8)) == "TWFu")
        #expect(base64Encoded(Array("Ma".utf8)) == "TWE=")
        #expect(base64Encoded(Array("M".utf8)) == "TQ==")
        let png = PNGImage.encode(rgb: [255, 0, 0, 0, 0, 255], width: 2, height: 1)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: width 2, height 1, 8-bit RGB; the file ends with IEND and its fixed CRC.
        #expect(Array(png[16..<26]) == [0, 0, 0, 2, 0, 0, 0, 1, 8, 2])
        #expect(Array(png.suffix(8)) == [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        #expect(WeightTiles.divergingColor(-1) == (33, 102, 172))
        #expect(WeightTiles.divergingColor(0) == (247, 247, 247))
        #expect(WeightTiles.divergingColor(1) == (178, 24, 43))
    }

    @Test func writeIsAtomicAndReportsErrors() throws {
        let directory = URL(fileURLWithPath: try TestScratch.directory("report"))
        let path = directory.appendingPathComponent("report.html").path
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        try HTMLReport.write(title: "t", history: Self.history(3), to: path)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.hasPrefix("<!DOCTYPE html>") && written.hasSuffix("</html>\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["report.html"])
        #expect {
            try HTMLReport.write(title: "t", history: [], to: directory.appendingPathComponent("missing/r.html").path)
        } throws: { error in
            guard case BackpropError.io(let p, let message) = error else { return false }
            return p.hasSuffix("missing/r.html") && message.contains("No such file or directory")
        }
    }

    /// A short real training run on the digits (8×8 images): the report shows its curves, a
    /// 10×10 confusion matrix of the held-out set and one 8×8 tile per hidden unit. Set
    /// BACKPROP_REPORT_HTML to a path to keep the file (for looking at it in a browser).
    @Test func reportOfARealDigitsRun() throws {
        let data = try loadDigits()
        let (train, test) = try data.split(testFraction: 0.2, seed: 1)
        let model = Sequential(seed: 3) { Dense(64, 16); ReLU(); Dense(16, 10) }
        let backend = SwiftBackend()
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: Adam(learningRate: 0.01),
                              backend: backend, seed: 2)
        try trainer.fit(train, validation: test, epochs: 8, batchSize: 32)
        let evaluation = try trainer.evaluate(test)
        let accuracy = try #require(evaluation.classification?.accuracy)
        #expect(accuracy > 0.85)
        let dense = try #require(model.layers.first as? Dense)
        let summary = [("dataset", "digits (8×8), \(train.count) train / \(test.count) test"),
                       ("model", "64 → 16 ReLU → 10"), ("backend", backend.name), ("optimizer", "Adam, lr 0.01"),
                       ("epochs", "8"), ("test accuracy", formatFixed(accuracy * 100, decimals: 2) + "%")]
        let path = ProcessInfo.processInfo.environment["BACKPROP_REPORT_HTML"]
            ?? TestScratch.file("digits-report.html")
        try HTMLReport.write(title: "Digits: 64-16-10 MLP", history: trainer.state.history, evaluation: evaluation,
                             classNames: (0..<10).map(String.init), firstLayerWeights: dense.weight.value,
                             imageShape: (8, 8), summary: summary, to: path)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(Self.occurrences(of: "<figure class=\"tile\"", in: html) == 16)
        #expect(Self.occurrences(of: "<svg", in: html) == 2)
        let counts = try Regex(#"<td[^>]*style="background[^"]*">(\d+)</td>"#)
        let cells = html.matches(of: counts).map { Int($0.output[1].substring!)! }
        #expect(cells.count == 100 && cells.reduce(0, +) == test.count)
    }

    /// A CNN's report draws its first convolution's filters: one k×k tile per filter, tile o
    /// holding weight[o, 0, :, :], found inside a nested Sequential too; an MLP's draws its first
    /// dense layer's units as images.
    @Test func firstConvolutionFiltersAreTheTiles() throws {
        let model = try Architecture.build("sequential:[conv2d:2:5:3:pad=1,relu],maxpool2d:2,flatten,dense:80:10",
                                           seed: 3, inputShape: [2, 8, 8])
        let conv = try #require((model.layers[0] as? Sequential)?.layers[0] as? Conv2d)
        let tiles = try #require(HTMLReport.firstLayerTiles(of: model, imageShape: (8, 8)))
        #expect(tiles.tileShape?.height == 3 && tiles.tileShape?.width == 3)
        #expect(tiles.weights.rows == 9 && tiles.weights.cols == 5)
        for o in 0..<5 {
            for p in 0..<9 { #expect(tiles.weights[p, o] == conv.weight.value.data[o * 18 + p], "filter \(o) pixel \(p)") }
        }
        let html = HTMLReport.render(title: "cnn", history: Self.history(1), firstLayerWeights: tiles.weights,
                                     imageShape: tiles.tileShape)
        #expect(Self.occurrences(of: "<figure class=\"tile\"", in: html) == 5)
        #expect(html.contains("convolution filter (5)") && html.contains("reshaped to 3×3"))

        let mlp = Sequential([Dense(64, 7), ReLU(), Dense(7, 10)], seed: 1)
        let unitTiles = try #require(HTMLReport.firstLayerTiles(of: mlp, imageShape: (8, 8)))
        #expect(unitTiles.weights.scalars == (mlp.layers[0] as! Dense).weight.value.scalars)
        #expect(unitTiles.tileShape?.height == 8 && unitTiles.tileShape?.width == 8)
        #expect(HTMLReport.firstLayerTiles(of: Sequential([ReLU()]), imageShape: nil) == nil)
    }

    /// ../shared/data/digits.csv.gz (64 pixels in 0...16, then the label), unzipped with gzip(1).
    func loadDigits() throws -> Dataset {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("../shared/data/digits.csv.gz").standardized.path
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-dc", path]
        let pipe = Pipe()
        gzip.standardOutput = pipe
        try gzip.run()
        let bytes = pipe.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        try #require(gzip.terminationStatus == 0, "gzip -dc \(path) failed")
        let rows = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { $0.split(separator: ",") }
        let x = Tensor(rows: rows.count, cols: 64)
        var labels: [Int32] = []
        for (r, fields) in rows.enumerated() {
            try #require(fields.count == 65, "row \(r) has \(fields.count) fields")
            for c in 0..<64 { x[r, c] = Float(fields[c])! / 16 }
            labels.append(Int32(fields[64])!)
        }
        return try Dataset(features: x, labels: labels, classCount: 10, imageShape: (8, 8))
    }
}
