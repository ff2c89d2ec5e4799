import Foundation
import Testing
@testable import Backprop

/// Runs the built `backprop` executable as a subprocess (`swift build` / `swift test` build it
/// next to the test bundle).
@Suite struct CLITests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `backprop` binary: next to the running test bundle, else in `.build/debug`.
    static func executable() throws -> URL {
        let candidates = [
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("backprop"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/backprop"),
        ]
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "no backprop executable at \(candidates.map(\.path)); run swift build first")
    }

    /// The environment without the variables that choose a backend, so runs are reproducible.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["BACKPROP_BACKEND"] = nil
        env["BACKPROP_NUM_THREADS"] = nil
        return env
    }

    /// A process running `backprop arguments...` in `directory`, with stdout and stderr going to
    /// files there (files, not pipes, so a chatty child can never block on a full pipe).
    static func makeProcess(_ arguments: [String], directory: String) throws -> (Process, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let id = UUID().uuidString
        let (out, err) = (directory + "/stdout-\(id).txt", directory + "/stderr-\(id).txt")
        for path in [out, err] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        return (process, out, err)
    }

    static func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// Runs `backprop arguments...` in `directory` to completion.
    static func run(_ arguments: [String], in directory: String) throws -> Output {
        let (process, out, err) = try makeProcess(arguments, directory: directory)
        try process.run()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: contents(out), stderr: contents(err))
    }

    /// A fresh directory to run the CLI in (removed at exit with the rest of ``TestScratch``).
    static func temporaryDirectory() throws -> String {
        try TestScratch.directory("cli")
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @Test func trainSaveEvalPredictOnXor() throws {
        let dir = try Self.temporaryDirectory()
        let train = try Self.run(["train", "--dataset", "xor", "--save", "xor.safetensors", "--json", "--quiet",
                                  "--backend", "swift"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.isEmpty)
        let result = try Self.json(train.stdout)
        #expect(result["backend"] as? String == "swift")
        #expect(result["epochs"] as? Int == 300)
        #expect(result["parameters"] as? Int == 42)
        #expect(result["test_accuracy"] as? Double == 1)
        for key in ["threads", "train_loss", "test_loss", "samples_per_second", "seconds"] {
            #expect(result[key] is NSNumber, "\(key) missing in \(train.stdout)")
        }

        let eval = try Self.run(["eval", "--model", "xor.safetensors", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        let evaluation = try Self.json(eval.stdout)
        #expect(evaluation["accuracy"] as? Double == 1)
        #expect(evaluation["confusion"] as? [[Int]] == [[2, 0], [0, 2]])

        try "a,b\n0,0\n0,1\n1,0\n1,1\n".write(toFile: dir + "/in.csv", atomically: true, encoding: .utf8)
        let predict = try Self.run(["predict", "--model", "xor.safetensors", "--input", "in.csv", "--json"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        let rows = try #require(try Self.json(predict.stdout)["predictions"] as? [[String: Any]])
        #expect(rows.map { $0["class"] as? Int } == [0, 1, 1, 0])
        #expect(rows.allSatisfy { ($0["probabilities"] as? [Double])?.count == 2 })

        let text = try Self.run(["predict", "--model", "xor.safetensors", "--input", "in.csv"], in: dir)
        #expect(text.stdout.split(separator: "\n").first == "row,class,p_0,p_1")
    }

    /// A nested network from --arch saves under nested names and evaluates from the file.
    @Test func nestedArchTrainsSavesAndEvaluates() throws {
        let dir = try Self.temporaryDirectory()
        let arch = "sequential:[conv2d:1:2:3,relu],flatten,dense:72:10"
        let train = try Self.run(["train", "--arch", arch, "--epochs", "1", "--save", "nested.safetensors",
                                  "--json", "--quiet", "--backend", "c"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let (tensors, metadata) = try SafeTensors.read(path: dir + "/nested.safetensors")
        #expect(metadata["architecture"] == arch)
        #expect(tensors["layers.0.0.weight"]?.shape == [2, 1, 3, 3] && tensors["layers.2.weight"]?.shape == [10, 72])
        let eval = try Self.run(["eval", "--model", "nested.safetensors", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(try Self.json(eval.stdout)["accuracy"] as? Double == (try Self.json(train.stdout)["test_accuracy"] as? Double))
    }

    /// A CNN from --arch on the 8×8 digits: trains, saves, evaluates, predicts flat CSV rows
    /// (reshaped by the checkpoint's input shape) and draws its first convolution's filters.
    @Test func cnnFromArchTrainsSavesEvaluatesAndPredicts() throws {
        let dir = try Self.temporaryDirectory()
        let arch = "conv2d:1:4:3:pad=1,relu,maxpool2d:2,dropout:0.1,flatten,dense:64:10"
        let train = try Self.run(["train", "--arch", arch, "--epochs", "3", "--save", "cnn.safetensors",
                                  "--report", "cnn.html", "--json", "--quiet", "--backend", "c"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let result = try Self.json(train.stdout)
        #expect(result["parameters"] as? Int == 40 + 650)
        let accuracy = try #require(result["test_accuracy"] as? Double)
        #expect(accuracy > 0.8)
        let (tensors, metadata) = try SafeTensors.read(path: dir + "/cnn.safetensors")
        #expect(metadata["architecture"] == arch && metadata["input_shape"] == "1x8x8")
        #expect(tensors["layers.0.weight"]?.shape == [4, 1, 3, 3] && tensors["layers.5.weight"]?.shape == [10, 64])
        // The report draws the first convolution's 4 filters as 3×3 tiles.
        let html = Self.contents(dir + "/cnn.html")
        #expect(html.contains("3×3") && html.components(separatedBy: "<figure class=\"tile\"").count - 1 == 4)

        let eval = try Self.run(["eval", "--model", "cnn.safetensors", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(try Self.json(eval.stdout)["accuracy"] as? Double == accuracy)  // eval mode: dropout off

        let digits = try BuiltinDatasets.digits()
        let rows = (0..<3).map { r in (0..<64).map { String(Int(digits.features[r, $0])) }.joined(separator: ",") }
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/in.csv", atomically: true, encoding: .utf8)
        let predict = try Self.run(["predict", "--model", "cnn.safetensors", "--input", "in.csv", "--json"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        let predictions = try #require(try Self.json(predict.stdout)["predictions"] as? [[String: Any]])
        #expect(predictions.count == 3 && predictions.allSatisfy { ($0["probabilities"] as? [Double])?.count == 10 })
        // Each flat row is one 1×8×8 image: the classes are the library's for the same images.
        let checkpoint = try ModelCheckpoint.load(from: dir + "/cnn.safetensors")
        let images = try Tensor(rows: 3, cols: 64, values: (0..<3).flatMap { r in (0..<64).map { digits.features[r, $0] } })
        let expected = try checkpoint.predict(images, backend: SwiftBackend())
        #expect(predictions.map { $0["class"] as? Int } == expected.classes?.map { Int($0) })

        // An --arch run resumes: its settings hold the architecture, not dense widths.
        let resumed = try Self.run(["train", "--resume", "cnn.safetensors", "--epochs", "4", "--json", "--quiet",
                                    "--backend", "c"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let (_, resumedMetadata) = try SafeTensors.read(path: dir + "/cnn.safetensors")
        #expect(resumedMetadata["architecture"] == arch)
        #expect(resumedMetadata["training_state"]?.contains("\"epochs_completed\":4") == true)
    }

    @Test(arguments: [
        (["train", "--arch", "lenet", "--hidden", "3"], "--arch describes the whole network"),
        (["train", "--threads", "0"], "--threads must be at least 1"),
        (["train", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["train", "--lr", "fast"], "fast"),
        (["train", "--layers", "64,0,10"], "widths must be at least 1"),
        (["train", "--layers", "64,10", "--hidden", "3"], "use either --layers or --hidden"),
        (["train", "--resume", "x.safetensors", "--lr", "0.5"], "--lr cannot be changed when resuming"),
        (["train", "--no-such-flag"], "--no-such-flag"),
        (["eval"], "--model"),
    ])
    func usageErrorsAreOneLineWithStatus2(arguments: [String], expected: String) throws {
        let output = try Self.run(arguments, in: try Self.temporaryDirectory())
        #expect(output.status == 2)
        #expect(output.stderr.hasPrefix("error: ") && output.stderr.contains(expected), "\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    @Test(arguments: [
        (["train", "--dataset", "xor", "--layers", "3,4,2"],
         "error: --layers 3,4,2 does not fit the xor data, which has 2 features and 2 classes"),
        (["train", "--dataset", "xor", "--backend", "no-such-backend"], "error: unknown backend 'no-such-backend'"),
        (["eval", "--model", "missing.safetensors"], "error: missing.safetensors: "),
        (["train", "--dataset", "csv", "--data", "missing.csv"], "error: /"),
        (["train", "--dataset", "xor", "--save", "no/such/dir/m.safetensors"], "error: cannot write no/such/dir/m.safetensors"),
        (["train", "--arch", "gelu"], "error: --arch: layer 0 'gelu' is not a known layer kind"),
        (["train", "--input-shape", "2,8,8"], "error: --input-shape 2,8,8: sample shape [2, 8, 8] does not hold the 64 features"),
    ])
    func runtimeErrorsAreOneLineWithStatus1(arguments: [String], expected: String) throws {
        let output = try Self.run(arguments, in: try Self.temporaryDirectory())
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix(expected) && output.stderr.contains(arguments.last!), "\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
    }

    @Test func archThatDoesNotConnectNamesTheLayerTextAndShapes() throws {
        let output = try Self.run(["train", "--arch", "conv2d:1:4:3,relu,flatten,dense:100:10"], in: try Self.temporaryDirectory())
        #expect(output.status == 1)
        #expect(output.stderr == "error: --arch: the layers do not connect: layer 3 'dense:100:10' (Dense(100 → 10)) "
            + "expects input shape [100] (100 features), got [144] (samples have shape 1,8,8)\n", "\(output.stderr)")
    }

    @Test func helpListsEveryTrainOption() throws {
        let output = try Self.run(["train", "--help"], in: try Self.temporaryDirectory())
        #expect(output.status == 0)
        for option in ["--dataset", "--data", "--label-column", "--test-split", "--normalize", "--layers", "--hidden",
                       "--activation", "--loss", "--optimizer", "--lr", "--momentum", "--nesterov", "--beta1", "--beta2", "--eps",
                       "--weight-decay", "--epochs",
                       "--batch-size", "--seed", "--clip-grad-norm", "--backend", "--threads", "--save", "--report",
                       "--json", "--quiet", "--resume", "--arch", "--input-shape"] {
            #expect(output.stdout.contains(option), "\(option) missing from train --help")
        }
    }

    /// Ctrl-C mid-run, then --resume, ends with the same weights as an uninterrupted run.
    @Test func interruptedRunResumesBitIdentically() throws {
        let dir = try Self.temporaryDirectory()
        let common = ["--seed", "4", "--backend", "swift"]
        let (process, out, err) = try Self.makeProcess(
            ["train", "--epochs", "200", "--save", "resumed.safetensors"] + common, directory: dir)
        try process.run()
        // Wait for the first epoch line (epoch lines go to stderr when it is not a terminal).
        while process.isRunning, !Self.contents(err).contains("\nepoch ") { usleep(10_000) }
        process.interrupt()
        process.waitUntilExit()
        let seen = Self.contents(err)
        #expect(Self.contents(out).isEmpty)
        #expect(process.terminationStatus == 130, "\(seen)")
        #expect(seen.contains("; saved resumed.safetensors; resume with: backprop train --resume resumed.safetensors"),
                "\(seen)")

        let saved = try ModelCheckpoint.load(from: dir + "/resumed.safetensors")
        let state = try #require(saved.trainingState)
        let epochs = state.epochsCompleted + 2
        let resume = try Self.run(["train", "--resume", "resumed.safetensors", "--epochs", "\(epochs)", "--quiet",
                                   "--backend", "swift"], in: dir)
        #expect(resume.status == 0, "\(resume.stderr)")
        let straight = try Self.run(["train", "--epochs", "\(epochs)", "--save", "straight.safetensors", "--quiet"] + common,
                                    in: dir)
        #expect(straight.status == 0, "\(straight.stderr)")

        let a = try ModelCheckpoint.load(from: dir + "/resumed.safetensors")
        let b = try ModelCheckpoint.load(from: dir + "/straight.safetensors")
        #expect(a.trainingState?.epochsCompleted == epochs)
        #expect(CheckpointTests.bits(a.model) == CheckpointTests.bits(b.model))
        #expect(a.trainingState?.history.map(\.trainLoss) == b.trainingState?.history.map(\.trainLoss))
        #expect(a.optimizer?.stepCount == b.optimizer?.stepCount)
    }

    @Test func evalAndPredictOnDigitsWithALabelColumn() throws {
        let dir = try Self.temporaryDirectory()
        let train = try Self.run(["train", "--epochs", "2", "--hidden", "16", "--save", "d.safetensors", "--quiet",
                                  "--backend", "swift"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let eval = try Self.run(["eval", "--model", "d.safetensors", "--backend", "swift"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.hasPrefix("digits, test samples: 359\nloss "), "\(eval.stdout)")
        #expect(eval.stdout.contains("class  precision  recall  support"))
        #expect(eval.stdout.contains("confusion matrix (rows: actual class, columns: predicted class)"))

        // Three digits rows with their labels (first 64 columns pixels, last the label), scaled as the file is.
        let digits = try BuiltinDatasets.digits()
        let rows = (0..<3).map { r in (digits.features.row(r).map { String(Int($0)) } + [String(digits.labels![r])]) }
        try (rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n")
            .write(toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
        let predict = try Self.run(["predict", "--model", "d.safetensors", "--input", "rows.csv", "--json"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        let result = try Self.json(predict.stdout)
        let predictions = try #require(result["predictions"] as? [[String: Any]])
        #expect(predictions.map { $0["label"] as? Int } == (0..<3).map { Int(digits.labels![$0]) })
        #expect(predictions.allSatisfy { ($0["probabilities"] as? [Double])?.count == 10 })
        #expect(result["accuracy"] is Double)

        let wrong = try Self.run(["predict", "--model", "d.safetensors", "--input", "rows.csv", "--label-column", "70"], in: dir)
        #expect(wrong.status == 1 && wrong.stderr == "error: --label-column 70 does not exist: rows.csv has 65 columns\n")
    }

    @Test func sigtermWithoutSaveExits143AndSaysNothingWasSaved() throws {
        let dir = try Self.temporaryDirectory()
        let (process, _, err) = try Self.makeProcess(["train", "--epochs", "500", "--backend", "swift"], directory: dir)
        try process.run()
        while process.isRunning, !Self.contents(err).contains("\nepoch ") { usleep(10_000) }
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
        #expect(Self.contents(err).contains("nothing saved (train with --save FILE to be able to resume)"))
    }
}
