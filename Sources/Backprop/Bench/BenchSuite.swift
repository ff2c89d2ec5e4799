#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A case that was not run on a backend, and why.
public struct BenchSkip: Sendable, Equatable {
    /// The case as `kind variant shape`.
    public let caseKey: String
    /// The backend's registry name.
    public let backend: String
    /// Why it was skipped, one line.
    public let reason: String
}

/// Runs cases on backends, one backend after the other per case, and collects records.
///
/// With several rounds, every case runs on every backend once per round, the backends in the
/// given order in even rounds and in reverse in odd ones, so no backend is always measured
/// first (or always right after another's threads went idle). A record then gives the median
/// over the rounds of each round's median, and keeps each round's figure for paired ratios.
public struct BenchSuite {
    /// The backends every case runs on, in this order.
    public let backends: [BenchBackend]
    /// How long and how often each case is measured.
    public let settings: BenchSettings
    /// Used for `percent_of_peak` on GEMM and conv records; nil leaves it out.
    public let peak: PeakEstimate?
    /// Run the `swift` reference on cases marked too slow for it.
    public let forceReference: Bool
    /// How many times every case runs on every backend (at least 1).
    public let rounds: Int
    /// Whether a multithreaded pool ran just before the suite (the CLI's peak probe on the
    /// OpenMP team), so the first timed backend waits for it to settle too.
    public let settleBeforeFirst: Bool
    /// The clock the settling waits are measured on (a fake one in tests).
    var now: () -> Double
    /// How the suite waits (a fake clock's advance in tests).
    var sleep: (Double) -> Void = { BenchSuite.pause(seconds: $0) }

    /// A suite over `backends`, measuring every case `rounds` times per backend.
    public init(backends: [BenchBackend], settings: BenchSettings, peak: PeakEstimate?, forceReference: Bool,
                rounds: Int = 1, settleBeforeFirst: Bool = false) {
        self.backends = backends
        self.settings = settings
        self.peak = peak
        self.forceReference = forceReference
        self.rounds = Swift.max(rounds, 1)
        self.settleBeforeFirst = settleBeforeFirst
        let clock = MonotonicBenchClock()
        self.now = { clock.now() }
    }

    /// Runs every case on every backend, `rounds` times; `onRound` sees each round's number
    /// (from 1) before it starts, `onRecord` each round's record as it comes, `onSkip` each
    /// skip once. Returns one record per case and backend (combined over the rounds) and the
    /// skips.
    ///
    /// Before timing a backend, the suite waits until `settings.settleTime` seconds have
    /// passed since a *different* multithreaded backend (or, with `settleBeforeFirst`, the
    /// code before the suite) last finished, so that backend's idle threads have stopped
    /// spinning on the CPUs the timed calls need.
    /// - Throws: what building a backend or a case throws (e.g. a diverged training step).
    public func run(_ cases: [BenchCase], onRound: (Int) -> Void = { _ in },
                    onRecord: (BenchRecord) -> Void = { _ in },
                    onSkip: (BenchSkip) -> Void = { _ in }) throws -> (records: [BenchRecord], skipped: [BenchSkip]) {
        var skipped: [BenchSkip] = []
        let runner = BenchRunner(settings: settings)
        // One instance per backend for the whole run, so thread pools start once.
        let instances = try backends.map { try $0.make() }
        // timings[case][backend]: one timing per round.
        var timings = Array(repeating: Array(repeating: [BenchTiming](), count: backends.count), count: cases.count)
        // The multithreaded pool that last went idle (its backend's index; nil for code before
        // the suite) and when.
        var idlePool: (backend: Int?, since: Double)? = settleBeforeFirst ? (nil, now()) : nil
        for round in 0..<rounds {
            onRound(round + 1)
            let order = round % 2 == 0 ? Array(backends.indices) : backends.indices.reversed()
            for (c, benchCase) in cases.enumerated() {
                for b in order {
                    let entry = backends[b]
                    if let reason = skipReason(benchCase, on: entry) {
                        if round == 0 {
                            let key = "\(benchCase.kind.rawValue) \(benchCase.variant) \(benchCase.shape)"
                            let skip = BenchSkip(caseKey: key, backend: entry.name, reason: reason)
                            skipped.append(skip)
                            onSkip(skip)
                        }
                        continue
                    }
                    let work = try benchCase.prepare(instances[b])
                    if let idle = idlePool, idle.backend != b {
                        let remaining = settings.settleTime - (now() - idle.since)
                        if remaining > 0 { sleep(remaining) }
                    }
                    let timing = try runner.measure(work)
                    if entry.threads > 1 { idlePool = (b, now()) }
                    timings[c][b].append(timing)
                    onRecord(makeRecord(benchCase, backend: entry, timing: timing))
                }
            }
        }
        var records: [BenchRecord] = []
        for (c, benchCase) in cases.enumerated() {
            for (b, entry) in backends.enumerated() where !timings[c][b].isEmpty {
                records.append(combine(benchCase, backend: entry, rounds: timings[c][b]))
            }
        }
        return (records, skipped)
    }

    /// Why `benchCase` is not run on `entry`, or nil when it is.
    func skipReason(_ benchCase: BenchCase, on entry: BenchBackend) -> String? {
        guard entry.name == BenchBackend.referenceName, benchCase.tooSlowForReference, !forceReference else { return nil }
        // The CLI forces a large GEMM with --backend and --sizes, any other case with
        // --backend when the selection has no GEMMs (BenchCommand).
        let how = benchCase.kind == .gemm
            ? "use --backend swift --sizes \(benchCase.shape.prefix { $0 != "x" }) to force"
            : "use `backprop bench \(benchCase.kind.rawValue) --backend swift` to force"
        return "skipped (reference too slow; \(how))"
    }

    /// Sleeps for `seconds`, at most 60 (nothing for 0 or less).
    static func pause(seconds: Double) {
        guard seconds > 0 else { return }
        usleep(UInt32(Swift.min(seconds, 60) * 1_000_000))
    }

    /// One record from a case's rounds on one backend: the median over the rounds of each
    /// round's median, the fastest and slowest sample of any round, every sample counted, and
    /// (with more than one round) each round's figure in `roundFigures`.
    func combine(_ benchCase: BenchCase, backend: BenchBackend, rounds: [BenchTiming]) -> BenchRecord {
        if rounds.count == 1 { return makeRecord(benchCase, backend: backend, timing: rounds[0]) }
        let all = BenchTiming(samples: rounds.flatMap(\.samples), callsPerSample: rounds[0].callsPerSample)
        let medianOfRounds = BenchTiming(samples: rounds.map(\.median)).median
        var record = makeRecord(benchCase, backend: backend, timing: all, medianSeconds: medianOfRounds)
        record.roundFigures = rounds.map { benchCase.figure(seconds: $0.median) }
        return record
    }

    /// The record of `timing`, its figure taken at `medianSeconds` (default: the timing's median).
    func makeRecord(_ benchCase: BenchCase, backend: BenchBackend, timing: BenchTiming,
                    medianSeconds: Double? = nil) -> BenchRecord {
        let median = medianSeconds ?? timing.median
        let figure = benchCase.figure(seconds: median)
        var record = BenchRecord(kind: benchCase.kind, variant: benchCase.variant, shape: benchCase.shape,
                                 backend: backend.name, threads: backend.threads, timing: timing)
        record.medianSeconds = median
        switch benchCase.kind {
        case .conv:
            record.gflops = figure
            if let peak { record.percentOfPeak = 100 * figure / peak.gflops(threads: backend.threads) }
        case .gemm:
            record.gflops = figure
            if let peak { record.percentOfPeak = 100 * figure / peak.gflops(threads: backend.threads) }
        case .softmax, .crossEntropy:
            record.gbps = figure
        case .train, .infer:
            record.samplesPerSecond = figure
        }
        return record
    }
}
