import Foundation
import Testing
@testable import Backprop

/// `mpirun -np N backprop train --distributed` against one process, and every way a
/// distributed run can fail. Runs where Open MPI is installed (scripts/test installs it);
/// otherwise the suite is skipped with the reason. Serialized: each test runs up to 3 ranks
/// on a 2-core machine. About 30-40 s in a debug build.
@Suite(.serialized, .enabled(if: OpenMPI.mpirun != nil, OpenMPI.skipReason))
struct DistributedMPITests {
    static var mpirun: String? { OpenMPI.mpirun }
    /// Root may run mpirun only when told; --oversubscribe allows 3 ranks on 2 cores;
    /// --bind-to none lets the ranks share the cores instead of pinning each to one; no
    /// single-copy (CMA) shared memory, which containers that restrict ptrace refuse.
    static let mpirunFlags = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                              "--mca", "btl_vader_single_copy_mechanism", "none"]
    /// The ranks' environment: under `scripts/test --sanitize address`, no leak report at exit,
    /// because Open MPI's own allocations (in plugins it has unloaded, so unsymbolizable) are
    /// not Backprop's; address errors are still reported. (Harmless for unsanitized builds.)
    static var environment: [String: String] {
        var env = CLITests.environment
        env["ASAN_OPTIONS"] = (env["ASAN_OPTIONS"].map { $0 + ":" } ?? "") + "detect_leaks=0"
        return env
    }
    /// An MPI job that runs longer than this is a hang; the test kills it and fails.
    static let timeoutSeconds = 120.0

    static let digits = ["train", "--epochs", "5", "--batch-size", "32", "--hidden", "32", "--momentum", "0.9",
                         "--backend", "c", "--threads", "1", "--quiet"]
    static let mnist = ["train", "--dataset", "mnist", "--data", "/work/shared/data/mnist-5k", "--epochs", "1",
                        "--backend", "c", "--threads", "1", "--quiet"]

    struct Run {
        var output: CLITests.Output
        var checkpoint: ModelCheckpoint?
    }

    /// `mpirun <flags> -np ranks backprop train … --distributed` (or one plain process when
    /// `ranks` is nil), saving to `name` in `dir`.
    static func train(_ arguments: [String], ranks: Int?, save name: String? = nil, in dir: String) throws -> Run {
        let saving = name.map { ["--save", $0] } ?? []
        let output = if let ranks {
            try runMPI(["-np", "\(ranks)", try CLITests.executable().path] + arguments + saving + ["--distributed"], in: dir)
        } else {
            try CLITests.run(arguments + saving, in: dir)
        }
        let checkpoint = try name.flatMap { output.status == 0 ? try ModelCheckpoint.load(from: dir + "/" + $0) : nil }
        return Run(output: output, checkpoint: checkpoint)
    }

    /// `mpirun <flags> arguments…` in `dir`; fails the test (and kills the job) if it outlives
    /// ``timeoutSeconds``.
    static func runMPI(_ arguments: [String], in dir: String) throws -> CLITests.Output {
        let (process, out, err) = try CLITests.makeProcess(mpirunFlags + arguments, directory: dir)
        process.executableURL = URL(fileURLWithPath: try #require(mpirun))
        process.environment = environment
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("mpirun \(arguments.joined(separator: " ")) hung for \(timeoutSeconds) s; stderr: \(CLITests.contents(err))")
        }
        process.waitUntilExit()
        return CLITests.Output(status: process.terminationStatus, stdout: CLITests.contents(out), stderr: CLITests.contents(err))
    }

    static func weights(_ checkpoint: ModelCheckpoint?) -> [[Float]] {
        checkpoint?.model.namedParameters.map { $0.parameter.value.scalars } ?? []
    }

    /// Checks `many` against one process `one`: per-epoch train loss within 1e-5 (relative),
    /// accuracies within 0.5 points, weights within 1e-4, and a single result line on stdout.
    static func expectSameResult(_ one: Run, _ many: Run, _ label: String) throws {
        #expect(many.output.status == 0, "\(label): \(many.output.stderr)")
        #expect(many.output.stderr.isEmpty, "\(label): ranks other than 0 must be quiet: \(many.output.stderr)")
        #expect(many.output.stdout.split(separator: "\n").count == 1, "\(label): one result line: \(many.output.stdout)")
        let a = try #require(one.checkpoint?.trainingState?.history), b = try #require(many.checkpoint?.trainingState?.history)
        #expect(a.count == b.count && !a.isEmpty)
        for (x, y) in zip(a, b) {
            #expect(abs(x.trainLoss - y.trainLoss) <= 1e-5 * max(1, x.trainLoss), "\(label) epoch \(x.epoch): \(x.trainLoss) vs \(y.trainLoss)")
            #expect(abs((x.testAccuracy ?? 0) - (y.testAccuracy ?? 1)) <= 0.005, "\(label) epoch \(x.epoch) accuracy")
        }
        let difference = DistributedTrainingTests.maxDifference(weights(one.checkpoint), weights(many.checkpoint))
        #expect(difference <= 1e-4, "\(label): weights differ by \(difference)")
    }

    @Test func twoAndThreeRanksTrainDigitsAsOneProcess() throws {
        let dir = try CLITests.temporaryDirectory()
        let one = try Self.train(Self.digits, ranks: nil, save: "one.safetensors", in: dir)
        #expect(one.output.status == 0, "\(one.output.stderr)")
        for ranks in [2, 3] {
            let many = try Self.train(Self.digits, ranks: ranks, save: "\(ranks).safetensors", in: dir)
            try Self.expectSameResult(one, many, "digits on \(ranks) ranks")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/work/shared/data/mnist-5k/train-images-idx3-ubyte.gz"),
                   "MNIST-5k is not at /work/shared/data/mnist-5k"))
    func twoAndThreeRanksTrainMNIST5kAsOneProcess() throws {
        let dir = try CLITests.temporaryDirectory()
        let one = try Self.train(Self.mnist, ranks: nil, save: "one.safetensors", in: dir)
        #expect(one.output.status == 0, "\(one.output.stderr)")
        for ranks in [2, 3] {
            let many = try Self.train(Self.mnist, ranks: ranks, save: "\(ranks).safetensors", in: dir)
            try Self.expectSameResult(one, many, "MNIST-5k on \(ranks) ranks")
        }
    }

    /// 1438 digits in batches of 479 leave a last batch of one row: two of three ranks have
    /// nothing to compute in that step and still take part in the all-reduce.
    @Test func identicalRunsAreBitIdenticalEvenWithEmptyShards() throws {
        let dir = try CLITests.temporaryDirectory()
        let arguments = Self.digits.map { $0 == "32" ? "479" : $0 }
        let first = try Self.train(arguments, ranks: 3, save: "a.safetensors", in: dir)
        let second = try Self.train(arguments, ranks: 3, save: "b.safetensors", in: dir)
        #expect(first.output.status == 0 && second.output.status == 0, "\(first.output.stderr)\(second.output.stderr)")
        let a = Self.weights(first.checkpoint), b = Self.weights(second.checkpoint)
        #expect(!a.isEmpty && a.map { $0.map(\.bitPattern) } == b.map { $0.map(\.bitPattern) })
        let one = try Self.train(arguments, ranks: nil, save: "one.safetensors", in: dir)
        try Self.expectSameResult(one, first, "batch 479 on 3 ranks")
    }

    /// SIGINT to rank 1 alone mid-run: its stop vote stops every rank at the same step, rank 0
    /// saves, and --resume under mpirun ends with the same bits as a run never interrupted.
    /// (The signal goes to the rank, not to mpirun: a child of this test process starts with
    /// SIGINT blocked, and mpirun, unlike backprop, does not unblock it.)
    @Test func interruptedRunResumesUnderMPIBitIdentically() throws {
        let dir = try CLITests.temporaryDirectory()
        let backprop = try CLITests.executable().path
        let run = Self.digits.filter { $0 != "--quiet" }.map { $0 == "5" ? "500" : $0 }
        let (process, _, err) = try CLITests.makeProcess(
            Self.mpirunFlags + ["-np", "2", backprop] + run + ["--save", "resumed.safetensors", "--distributed"], directory: dir)
        process.executableURL = URL(fileURLWithPath: try #require(Self.mpirun))
        process.environment = Self.environment
        try process.run()
        let deadline = Date().addingTimeInterval(Self.timeoutSeconds)
        while process.isRunning, Date() < deadline, !CLITests.contents(err).contains("\nepoch ") { usleep(10_000) }
        let rank1 = try #require(Self.rank(1, of: process.processIdentifier), "rank 1 of mpirun not found")
        kill(rank1, SIGINT)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate(); Issue.record("the ranks did not stop") }
        process.waitUntilExit()
        let seen = CLITests.contents(err)
        #expect(seen.contains("; saved resumed.safetensors; resume with: backprop train --resume resumed.safetensors"), "\(seen)")
        let state = try #require(try ModelCheckpoint.load(from: dir + "/resumed.safetensors").trainingState)
        let epochs = state.epochsCompleted + 2
        let resumed = try Self.runMPI(["-np", "2", backprop, "train", "--resume", "resumed.safetensors", "--epochs", "\(epochs)",
                                       "--backend", "c", "--threads", "1", "--quiet", "--distributed"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let straight = try Self.train(Self.digits.map { $0 == "5" ? "\(epochs)" : $0 }, ranks: 2,
                                      save: "straight.safetensors", in: dir)
        let a = try ModelCheckpoint.load(from: dir + "/resumed.safetensors")
        #expect(a.trainingState?.epochsCompleted == epochs)
        #expect(Self.weights(a).map { $0.map(\.bitPattern) } == Self.weights(straight.checkpoint).map { $0.map(\.bitPattern) })
        #expect(a.trainingState?.history.map(\.trainLoss) == straight.checkpoint?.trainingState?.history.map(\.trainLoss))
    }

    /// The process id of rank `rank` among the children of `mpirun` (from /proc).
    static func rank(_ rank: Int, of mpirun: Int32) -> Int32? {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        return pids.first { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ")".
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == mpirun,
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }
        }
    }

    /// A bad data path on one rank (mpirun's MPMD form gives rank 1 other arguments) ends
    /// the job at once with that rank's message, not a hang.
    @Test func aRankThatFailsEndsTheJobWithItsMessage() throws {
        let dir = try CLITests.temporaryDirectory()
        let backprop = try CLITests.executable().path
        let good = [backprop] + Self.digits + ["--distributed"]
        let bad = [backprop, "train", "--dataset", "csv", "--data", "/no/such/file.csv", "--quiet", "--distributed"]
        let output = try Self.runMPI(["-np", "1"] + good + [":", "-np", "1"] + bad, in: dir)
        #expect(output.status != 0)
        let errors = output.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1 && errors[0].hasPrefix("error: rank 1 of 2: /no/such/file.csv: cannot open"), "\(output.stderr)")
    }

    /// Ranks that load different data (here: another --seed, so another train/test split) are
    /// refused before training, with one message from rank 0.
    @Test func ranksWithDifferentDataAreRefusedWithOneMessage() throws {
        let dir = try CLITests.temporaryDirectory()
        let backprop = try CLITests.executable().path
        let output = try Self.runMPI(["-np", "2", backprop] + Self.digits + ["--distributed", ":", "-np", "1", backprop]
                                     + Self.digits + ["--seed", "9", "--distributed"], in: dir)
        #expect(output.status != 0)
        let errors = output.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors == ["error: rank 0 of 3: distributed training: rank 2's training data differs from rank 0's; "
                           + "every rank must load the same data and settings (and resume from the same checkpoint)"],
                "\(output.stderr)")
    }

    /// A rank that dies (killed, out of memory) ends the job: mpirun kills the rest.
    @Test func aRankThatDiesEndsTheJob() throws {
        let dir = try CLITests.temporaryDirectory()
        let backprop = try CLITests.executable().path
        let start = Date()
        let output = try Self.runMPI(["-np", "1", backprop] + Self.digits.map { $0 == "5" ? "1000" : $0 }
                                     + ["--distributed", ":", "-np", "1", "/bin/sh", "-c", "sleep 1; kill -9 $$"], in: dir)
        #expect(output.status != 0)
        #expect(Date().timeIntervalSince(start) < 60, "the job outlived its dead rank")
    }

    @Test func divergenceEndsEveryRankWithOneMessage() throws {
        let dir = try CLITests.temporaryDirectory()
        let output = try Self.train(Self.digits + ["--lr", "1e30"], ranks: 2, in: dir).output
        #expect(output.status != 0)
        let errors = output.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1 && errors[0].hasPrefix("error: rank 0 of 2: training diverged"), "\(output.stderr)")
    }
}

/// Where Open MPI's launcher is.
enum OpenMPI {
    /// `mpirun` from PATH, or nil when Open MPI is not installed.
    static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static let skipReason: Comment =
        "mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev; scripts/test does) to run the MPI tests"
}

/// `--distributed` where it cannot work: one line with the fix, no MPI needed.
@Suite struct DistributedCLIErrorTests {
    @Test func withoutMPIInstalledSaysHowToInstallIt() throws {
        var env = CLITests.environment
        env[MPIEnvironment.libraryVariable] = "/no/such/libmpi.so.40"
        let output = try Self.run(["train", "--distributed", "--quiet"], environment: env)
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: --distributed needs Open MPI: MPI not found (/no/such/libmpi.so.40")
                && output.stderr.contains("apt-get install openmpi-bin libopenmpi-dev"), "\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1)
    }

    @Test(.enabled(if: (try? MPICommunicator.checkLibrary()) != nil, "libmpi is not installed"))
    func outsideMPIRunSaysToUseIt() throws {
        var env = CLITests.environment
        for name in MPIEnvironment.launcherVariables { env[name] = nil }
        let output = try Self.run(["train", "--distributed", "--quiet"], environment: env)
        #expect(output.status == 1)
        #expect(output.stderr == "error: --distributed needs processes started by mpirun: run `mpirun -np 2 backprop train "
                + "--distributed …` (as root add --allow-run-as-root), or drop --distributed to train in this process alone\n")
    }

    @Test func helpMentionsDistributed() throws {
        let output = try CLITests.run(["train", "--help"], in: try CLITests.temporaryDirectory())
        #expect(output.stdout.contains("--distributed"))
    }

    static func run(_ arguments: [String], environment: [String: String]) throws -> CLITests.Output {
        let dir = try CLITests.temporaryDirectory()
        let (process, out, err) = try CLITests.makeProcess(arguments, directory: dir)
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        return CLITests.Output(status: process.terminationStatus, stdout: CLITests.contents(out), stderr: CLITests.contents(err))
    }
}
