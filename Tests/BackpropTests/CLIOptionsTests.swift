import Foundation
import Testing
@testable import Backprop

/// The library's losses and optimizer settings on the command line: `--loss bce`, `--nesterov`,
/// `--beta1`, `--beta2`, `--eps`: validated, saved in the checkpoint and restored by `--resume`.
@Suite struct CLIOptionsTests {
    /// A CSV of 60 points labelled 1 when a + b > 0, with a header.
    static func binaryCSV(in dir: String) throws {
        var rng = SeededGenerator(seed: 12)
        var text = "a,b,label\n"
        for _ in 0..<60 {
            let a = rng.nextNormal(), b = rng.nextNormal()
            text += "\(String(format: "%.3f", a)),\(String(format: "%.3f", b)),\(a + b > 0 ? 1 : 0)\n"
        }
        try text.write(toFile: dir + "/binary.csv", atomically: true, encoding: .utf8)
    }

    static func settings(_ path: String) throws -> [String: Any] {
        let (_, metadata) = try SafeTensors.read(path: path)
        return try CLITests.json(try #require(metadata["settings"]))
    }

    /// Train, eval and predict with binary cross-entropy: one output unit, a 2×2 confusion
    /// matrix, and predict's p_1 is σ(logit) of the saved model (what the library predicts).
    @Test func bceTrainsOneOutputAndPredictsSigmoidProbabilities() throws {
        let dir = try CLITests.temporaryDirectory()
        try Self.binaryCSV(in: dir)
        let train = try CLITests.run(["train", "--data", "binary.csv", "--loss", "bce", "--epochs", "60", "--lr", "0.5",
                                      "--save", "b.st", "--json", "--quiet", "--backend", "swift"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(try #require(try CLITests.json(train.stdout)["test_accuracy"] as? Double) >= 0.75, "\(train.stdout)")
        let (_, metadata) = try SafeTensors.read(path: dir + "/b.st")
        #expect(metadata["loss"] == "binary-cross-entropy" && metadata["classes"] == "2")
        #expect(metadata["architecture"]?.hasSuffix(":1") == true, "\(metadata["architecture"] ?? "")")
        #expect(try Self.settings(dir + "/b.st")["loss"] as? String == "bce")

        let eval = try CLITests.run(["eval", "--model", "b.st", "--split", "all", "--json", "--backend", "swift"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        let evaluation = try CLITests.json(eval.stdout)
        let confusion = try #require(evaluation["confusion"] as? [[Int]])
        #expect(confusion.count == 2 && confusion.allSatisfy { $0.count == 2 } && confusion.joined().reduce(0, +) == 60)
        #expect(evaluation["accuracy"] as? Double == Double(confusion[0][0] + confusion[1][1]) / 60)

        let predict = try CLITests.run(["predict", "--model", "b.st", "--input", "binary.csv", "--json",
                                        "--backend", "swift"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        let rows = try #require(try CLITests.json(predict.stdout)["predictions"] as? [[String: Any]])
        let library = try ModelCheckpoint.load(from: dir + "/b.st")
            .predict(try CSV.load(path: dir + "/binary.csv").features, backend: SwiftBackend())
        #expect(rows.count == 60 && library.probabilities.shape == [60, 1])
        for (r, row) in rows.enumerated() {
            let p = try #require(row["probabilities"] as? [Double])
            let sigmoid = Double(library.probabilities.data[r])
            #expect(p.count == 2 && abs(p[1] - sigmoid) < 1e-6 && abs(p[0] - (1 - sigmoid)) < 1e-6, "row \(r): \(p) vs \(sigmoid)")
            #expect(row["class"] as? Int == (sigmoid > 0.5 ? 1 : 0) && row["class"] as? Int == Int(library.classes![r]))
        }
        let text = try CLITests.run(["predict", "--model", "b.st", "--input", "binary.csv", "--backend", "swift"], in: dir)
        #expect(text.stdout.hasPrefix("row,class,label,p_0,p_1\n"), "\(text.stdout.prefix(80))")
    }

    @Test(arguments: [
        (["train", "--loss", "bce"],
         "error: --loss bce needs binary labels (0 or 1), but the digits data has 10 classes (labels 0 to 9); use --loss cross-entropy for more than two classes\n"),
        (["train", "--data", "three.csv", "--loss", "bce"],
         "error: --loss bce needs binary labels (0 or 1), but the csv ($DIR/three.csv) data has 3 classes (labels 0 to 2); use --loss cross-entropy for more than two classes\n"),
        (["train", "--data", "zeros.csv", "--loss", "bce"],
         "error: every label of the csv ($DIR/zeros.csv) data is 0, so a binary classifier has nothing to learn; give labels of both classes, 0 and 1\n"),
        (["train", "--dataset", "xor", "--loss", "bce", "--layers", "2,4,2"],
         "error: --layers 2,4,2 does not fit the xor data, which has 2 features and 1 outputs: the first width must be 2 and the last 1 (or use --hidden)\n"),
    ])
    func bceRefusesDataThatIsNotBinary(arguments: [String], message: String) throws {
        let dir = try CLITests.temporaryDirectory()
        try "a,b,y\n0,1,0\n1,1,2\n2,0,1\n".write(toFile: dir + "/three.csv", atomically: true, encoding: .utf8)
        try "a,b,y\n0,1,0\n1,1,0\n".write(toFile: dir + "/zeros.csv", atomically: true, encoding: .utf8)
        let output = try CLITests.run(arguments + ["--quiet", "--backend", "swift"], in: dir)
        let dirPath = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        #expect(output.status == 1)
        #expect(output.stderr == message.replacingOccurrences(of: "$DIR", with: dirPath)
                || output.stderr == message.replacingOccurrences(of: "$DIR", with: dir), "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    @Test(arguments: [
        (["train", "--nesterov"], "error: --nesterov needs a momentum above 0 (give --momentum, e.g. 0.9)"),
        (["train", "--nesterov", "--momentum", "0"], "error: --nesterov needs a momentum above 0 (give --momentum, e.g. 0.9)"),
        (["train", "--nesterov", "--optimizer", "adam"], "error: --nesterov applies to sgd only, not adam"),
        (["train", "--beta1", "0.5"], "error: --beta1 applies to adam and adamw only; give --optimizer adam or adamw"),
        (["train", "--optimizer", "sgd", "--eps", "1e-6"], "error: --eps applies to adam and adamw only; give --optimizer adam or adamw"),
        (["train", "--optimizer", "adam", "--beta1", "1"], "error: --beta1 must be in [0, 1), got 1.0"),
        (["train", "--optimizer", "adamw", "--beta2=-0.1"], "error: --beta2 must be in [0, 1), got -0.1"),
        (["train", "--optimizer", "adam", "--beta2", "nan"], "error: --beta2 must be in [0, 1), got nan"),
        (["train", "--optimizer", "adam", "--eps", "0"], "error: --eps must be a positive number, got 0.0"),
        (["train", "--optimizer", "adam", "--eps", "inf"], "error: --eps must be a positive number, got inf"),
        (["train", "--optimizer", "adam", "--eps=-1e-8"], "error: --eps must be a positive number, got -1e-08"),
        (["train", "--resume", "x.st", "--nesterov"], "error: --nesterov cannot be changed when resuming; x.st holds the run's settings"),
        (["train", "--resume", "x.st", "--beta1", "0.5"], "error: --beta1 cannot be changed when resuming; x.st holds the run's settings"),
        (["train", "--resume", "x.st", "--eps", "1e-3"], "error: --eps cannot be changed when resuming; x.st holds the run's settings"),
        (["train", "--loss", "hinge"], "error: the value 'hinge' is invalid for '--loss <name>'. Please provide one of 'cross-entropy', 'mse' or 'bce'."),
    ])
    func optimizerOptionErrorsAreUsageErrors(arguments: [String], message: String) throws {
        let output = try CLITests.run(arguments, in: try CLITests.temporaryDirectory())
        #expect(output.status == 2)
        #expect(output.stderr.hasPrefix(message), "\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    /// Each option reaches the optimizer, is saved in the settings and in the optimizer record,
    /// and a resumed run continues with the same values.
    @Test(arguments: [
        (["--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6"], "adam"),
        (["--optimizer", "adamw", "--beta1", "0.5", "--beta2", "0.9", "--eps", "0.001"], "adamw"),
        (["--momentum", "0.9", "--nesterov"], "sgd"),
    ])
    func optimizerSettingsAreSavedAndSurviveResume(options: [String], kind: String) throws {
        let dir = try CLITests.temporaryDirectory()
        let train = try CLITests.run(["train", "--epochs", "1", "--hidden", "8", "--save", "r.st", "--quiet",
                                      "--backend", "swift"] + options, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let settings = try Self.settings(dir + "/r.st")
        let savedSettings = try SafeTensors.read(path: dir + "/r.st").metadata["settings"]
        func check(_ optimizer: (any Optimizer)?, _ when: String) throws {
            if kind == "sgd" {
                let sgd = try #require(optimizer as? SGD, "\(when)")
                #expect(sgd.nesterov && sgd.momentum == 0.9, "\(when)")
            } else {
                let adam = try #require(optimizer as? Adam, "\(when)")
                let (b1, b2, eps) = (Float(options[3])!, Float(options[5])!, Float(options[7])!)
                #expect(adam.beta1 == b1 && adam.beta2 == b2 && adam.epsilon == eps, "\(when): \(adam.beta1) \(adam.beta2) \(adam.epsilon)")
                #expect((adam is AdamW) == (kind == "adamw"), "\(when)")
            }
        }
        if kind == "sgd" {
            #expect(settings["nesterov"] as? Bool == true && settings["beta1"] == nil, "\(settings)")
        } else {
            #expect((settings["beta1"] as? Double).map { Float($0) } == Float(options[3]), "\(settings)")
            #expect((settings["beta2"] as? Double).map { Float($0) } == Float(options[5]), "\(settings)")
            #expect((settings["epsilon"] as? Double).map { Float($0) } == Float(options[7]), "\(settings)")
            #expect(settings["nesterov"] == nil, "\(settings)")
        }
        try check(try ModelCheckpoint.load(from: dir + "/r.st").optimizer, "saved")
        let resume = try CLITests.run(["train", "--resume", "r.st", "--epochs", "2", "--quiet", "--backend", "swift"], in: dir)
        #expect(resume.status == 0, "\(resume.stderr)")
        let resumed = try ModelCheckpoint.load(from: dir + "/r.st")
        #expect(resumed.trainingState?.epochsCompleted == 2)
        try check(resumed.optimizer, "resumed")
        // The settings are the run's, with the new epoch total.
        let before = try #require(try SafeTensors.read(path: dir + "/r.st").metadata["settings"])
        #expect(before.contains("\"epochs\":2,"))
        #expect(before.replacingOccurrences(of: "\"epochs\":2,", with: "\"epochs\":1,") == savedSettings)
    }

    /// Settings forged into a checkpoint are checked by the flags' rules before a resume.
    @Test(arguments: [
        ("beta1", "1.5", "beta1 1.5 is outside [0, 1)"),
        ("epsilon", "0", "epsilon 0.0 is not a positive number"),
        ("nesterov", "true", "nesterov needs sgd with a positive momentum"),
    ])
    func forgedOptimizerSettingsAreRefusedOnResume(key: String, value: String, message: String) throws {
        let dir = try CLITests.temporaryDirectory()
        let train = try CLITests.run(["train", "--epochs", "1", "--hidden", "4", "--save", "f.st", "--quiet",
                                      "--backend", "swift", "--optimizer", "adam"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let forgedValue: Any = value == "true" ? true : Double(value)!
        try HostileCLITests.forge(dir + "/f.st", to: dir + "/f.st", key: "settings", field: key, value: forgedValue)
        let resume = try CLITests.run(["train", "--resume", "f.st", "--epochs", "2", "--quiet", "--backend", "swift"], in: dir)
        #expect(resume.status == 1)
        #expect(resume.stderr == "error: f.st: metadata 'settings': \(message)\n", "\(resume.stderr)")
    }
}
