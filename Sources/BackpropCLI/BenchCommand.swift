import ArgumentParser
import Backprop
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which cases `backprop bench` runs.
enum BenchSelection: String, ExpressibleByArgument, CaseIterable {
    case gemm, softmax, train, infer, conv, lenet, lenetLayers = "lenet-layers", all
}

/// `backprop bench`: times GEMM, softmax/cross-entropy, training and inference on each backend.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time GEMM, softmax, training and inference on each backend, side by side.",
        discussion: """
            Each case runs on every selected backend in turn: a warm-up call, then timed calls until \
            --min-time seconds and --repeat calls are reached; the median and the min..max per call \
            are reported. Before timing a backend the bench waits until --settle seconds have \
            passed since a different multithreaded backend (or the peak probe) finished, so its \
            idle threads have stopped spinning. With --rounds N every case runs N times per \
            backend, in alternating order, and the table gives medians over the rounds and the \
            median of the per-round ratios. GEMM is in GFLOP/s (2·M·N·K per call) and percent of \
            the measured FP32 peak; softmax and cross-entropy in GB/s (one read of the input, one write of the output); \
            train and infer in samples/s (train times single SGD steps on seeded synthetic data, not \
            full epochs). The swift reference skips GEMMs above n=1024 unless both --backend and \
            --sizes are given, and the training, inference and convolution cases unless --backend \
            names it and the selection has no GEMMs (e.g. `bench lenet --backend swift`).
            """)

    @Argument(help: "The cases to run: gemm, softmax (with cross_entropy), train (with LeNet-5), infer, conv (LeNet-5's convolutions), lenet (LeNet-5's training step alone), lenet-layers (that step split by layer) or all.")
    var selection: BenchSelection = .all

    @Option(help: "Comma-separated backends (default: every available one, swift first).")
    var backend: String?

    @Option(help: "Threads for multithreaded backends (default: BACKPROP_NUM_THREADS, OMP_NUM_THREADS, cores).")
    var threads: Int?

    @OptionGroup var plugins: PluginOptions

    @Option(help: "Comma-separated square GEMM sizes (default: 128,256,512,1024,2048).")
    var sizes: String?

    @Option(name: .customLong("repeat"), help: "Minimum timed calls per case and backend (default 5).")
    var repeats: Int?

    @Option(name: .customLong("min-time"), help: "Minimum seconds of timed calls per case and backend (default 0.5).")
    var minTime: Double?

    @Option(help: "Run every case on every backend this many times, the backends' order reversed in every other round; the table shows the median over the rounds and the median of the per-round ratios (default 1).")
    var rounds: Int?

    @Option(help: "Seconds that must pass after a multithreaded backend finishes before a different backend is timed, so its idle threads stop spinning (default 0.25; 0 turns the wait off).")
    var settle: Double?

    @Flag(help: "A quick pass: --min-time 0.1, --repeat 3, square GEMMs up to 512 (flags given explicitly win).")
    var quick = false

    @Flag(help: "Print only one JSON array of records on stdout (progress goes to stderr).")
    var json = false

    @Flag(help: "Print only CSV records on stdout (progress goes to stderr).")
    var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        // Bounds that keep a benchmark finite: a day of timing, a million calls per case.
        if let repeats, !(1...1_000_000).contains(repeats) {
            throw ValidationError("--repeat must be between 1 and 1000000, got \(repeats)")
        }
        if let minTime, !(minTime >= 0 && minTime <= 86_400) {
            throw ValidationError("--min-time must be between 0 and 86400 seconds, got \(minTime)")
        }
        if let rounds, !(1...1000).contains(rounds) {
            throw ValidationError("--rounds must be between 1 and 1000, got \(rounds)")
        }
        if let settle, !(settle >= 0 && settle <= 60) {
            throw ValidationError("--settle must be between 0 and 60 seconds, got \(settle)")
        }
        if let threads { try checkThreadCount(threads) }
        _ = try parsedSizes()
    }

    func parsedSizes() throws -> [Int]? {
        guard let sizes else { return nil }
        let parts = sizes.split(separator: ",", omittingEmptySubsequences: false)
        return try parts.map { part in
            guard let n = Int(part), n >= 1 else {
                throw ValidationError("--sizes takes positive integers separated by commas, got '\(part)' in '\(sizes)'")
            }
            // A GEMM of size n holds three n×n float matrices.
            let bytes = 3 * 4 * Double(n) * Double(n)
            guard bytes <= Double(MemoryLimits.physicalBytes) else {
                throw ValidationError("--sizes \(n): three \(n)×\(n) float matrices need \(gibibytes(bytes)) GiB, "
                    + "more than this machine's \(gibibytes(Double(MemoryLimits.physicalBytes))) GiB of memory")
            }
            return n
        }
    }

    func run() throws {
        let machineOutput = json || csv
        // Human-readable lines go to stdout normally and to stderr when stdout carries data.
        let say: (String) -> Void = machineOutput ? { printToStandardError($0) } : { print($0) }
        try checkEngineEnvironment()
        let names = backend.map { $0.split(separator: ",").map { String($0) } }
        try plugins.load()
        let backends = try benchBackends(names: names, threads: threads)
        let squareSizes = try parsedSizes()

        // The machine first, so a table is never read against the wrong CPU or SIMD path.
        say(MachineDescription.current.summary(simd: try SIMDLevel.resolve()))
        for entry in backends {
            let detail = (try? entry.make().detail) ?? ""
            say("backend \(entry.name): \(entry.threads) thread\(entry.threads == 1 ? "" : "s"); \(detail)")
        }
        var cases: [BenchCase] = []
        let wants = { (s: BenchSelection) in selection == .all || selection == s }
        let defaultSizes = quick ? BenchCases.defaultSquareSizes.filter { $0 <= 512 } : BenchCases.defaultSquareSizes
        if wants(.gemm) { cases += BenchCases.gemm(squareSizes: squareSizes ?? defaultSizes) }
        if wants(.softmax) {
            cases += BenchCases.softmax()
            say("softmax and cross_entropy GB/s count one read of the input (logits, plus the int32 labels) "
                + "and one write of the output (probabilities or gradient), 4 bytes per float")
        }
        if wants(.train) {
            say("train: single SGD steps (lr 0.1, cross-entropy, ReLU) cycling over up to 64 minibatches of "
                + "seeded synthetic data (60,000 x 784 for the MNIST-sized network, 1,797 rows otherwise); "
                + "samples/s = batch / median step time")
            cases += BenchCases.train()
        }
        if wants(.infer) { cases += BenchCases.infer() }
        if wants(.conv) {
            say("conv: LeNet-5's convolutions at batch 64 (im2col + one SGEMM per batch); GFLOP/s count 2·N·out·H'·W'·C·k·k "
                + "per forward, twice that per backward (dW and dx)")
            cases += BenchCases.conv()
        }

        if selection == .lenet { cases.append(BenchCases.lenetTrainCase(batch: 64, data: SyntheticData())) }
        if selection == .lenetLayers {
            say("lenet-layers: LeNet-5's training step, then each layer alone at batch 64, forward and backward "
                + "(Dense and ReLU unfused); samples/s = 64 / median time of that layer's call")
            cases += BenchCases.lenetLayers()
        }

        var peak: PeakEstimate?
        let peakThreads = backends.map(\.threads).max() ?? 1
        if wants(.gemm) || wants(.conv) {
            let estimate = PeakProbe.estimate(threads: peakThreads, simd: try SIMDLevel.resolve())
            say("FP32 peak " + estimate.method)
            say(estimate.nominalFormula)
            peak = estimate
        }

        let settings = BenchSettings(warmupCalls: 1, minTime: minTime ?? (quick ? 0.1 : 0.5),
                                     minRepeats: repeats ?? (quick ? 3 : 5), settleTime: settle ?? 0.25)
        let suite = BenchSuite(backends: backends, settings: settings, peak: peak,
                               forceReference: names != nil && (squareSizes != nil || !wants(.gemm)),
                               rounds: rounds ?? 1, settleBeforeFirst: peak != nil && peakThreads > 1)
        let result = try suite.run(cases, onRound: { if suite.rounds > 1 { say("round \($0) of \(suite.rounds)") } },
                                   onRecord: { say(BenchReport.line($0)) },
                                   onSkip: { say("\($0.caseKey) on \($0.backend): \($0.reason)") })
        if json {
            print(try BenchReport.json(result.records))
        } else if csv {
            print(BenchReport.csv(result.records))
        } else {
            print("")
            print(BenchReport.sideBySide(result.records, skipped: result.skipped, backends: backends.map(\.name)))
            for note in Set(result.skipped.map(\.reason)).sorted() { print("note: \(note)") }
        }
    }
}

/// Writes one line to standard error (progress and notes while stdout carries JSON or CSV).
func printToStandardError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
