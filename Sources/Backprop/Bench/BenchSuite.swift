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
public struct BenchSuite {
    /// The backends every case runs on, in this order.
    public let backends: [BenchBackend]
    /// How long and how often each case is measured.
    public let settings: BenchSettings
    /// Used for `percent_of_peak` on GEMM and conv records; nil leaves it out.
    public let peak: PeakEstimate?
    /// Run the `swift` reference on cases marked too slow for it.
    public let forceReference: Bool

    /// A suite over `backends`.
    public init(backends: [BenchBackend], settings: BenchSettings, peak: PeakEstimate?, forceReference: Bool) {
        self.backends = backends
        self.settings = settings
        self.peak = peak
        self.forceReference = forceReference
    }

    /// Runs every case on every backend; `onRecord` and `onSkip` see each result as it comes.
    /// - Throws: what building a backend or a case throws (e.g. a diverged training step).
    public func run(_ cases: [BenchCase], onRecord: (BenchRecord) -> Void = { _ in },
                    onSkip: (BenchSkip) -> Void = { _ in }) throws -> (records: [BenchRecord], skipped: [BenchSkip]) {
        var records: [BenchRecord] = []
        var skipped: [BenchSkip] = []
        let runner = BenchRunner(settings: settings)
        // One instance per backend for the whole run, so thread pools start once.
        let instances = try backends.map { try $0.make() }
        for benchCase in cases {
            for (entry, backend) in zip(backends, instances) {
                let key = "\(benchCase.kind.rawValue) \(benchCase.variant) \(benchCase.shape)"
                if entry.name == BenchBackend.referenceName, benchCase.tooSlowForReference, !forceReference {
                    // The CLI forces a large GEMM with --backend and --sizes, any other case with
                    // --backend when the selection has no GEMMs (BenchCommand).
                    let how = benchCase.kind == .gemm
                        ? "use --backend swift --sizes \(benchCase.shape.prefix { $0 != "x" }) to force"
                        : "use `backprop bench \(benchCase.kind.rawValue) --backend swift` to force"
                    let skip = BenchSkip(caseKey: key, backend: entry.name, reason: "skipped (reference too slow; \(how))")
                    skipped.append(skip)
                    onSkip(skip)
                    continue
                }
                let work = try benchCase.prepare(backend)
                let timing = try runner.measure(work)
                let record = makeRecord(benchCase, backend: entry, timing: timing)
                records.append(record)
                onRecord(record)
            }
        }
        return (records, skipped)
    }

    func makeRecord(_ benchCase: BenchCase, backend: BenchBackend, timing: BenchTiming) -> BenchRecord {
        let figure = benchCase.figure(seconds: timing.median)
        var record = BenchRecord(kind: benchCase.kind, variant: benchCase.variant, shape: benchCase.shape,
                                 backend: backend.name, threads: backend.threads, timing: timing)
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
