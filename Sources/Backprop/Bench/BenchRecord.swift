/// The kinds of benchmark case `backprop bench` runs.
public enum BenchKind: String, Sendable, Codable, CaseIterable {
    /// Matrix multiply; figure: GFLOP/s = 2·M·N·K / s.
    case gemm
    /// Row-wise softmax; figure: GB/s of input read + output written.
    case softmax
    /// Fused softmax + cross-entropy with labels; figure: GB/s of logits + labels read and
    /// gradient written.
    case crossEntropy = "cross_entropy"
    /// Training steps; figure: samples per second.
    case train
    /// Forward pass + softmax; figure: samples per second.
    case infer
    /// A Conv2d layer's forward or backward pass; figure: GFLOP/s of the convolution's
    /// multiply-adds (2·N·out·H'·W'·C·k·k per pass, twice that for backward: dW and dx).
    case conv

    /// The unit of the case's figure, for tables.
    public var unit: String {
        switch self {
        case .gemm, .conv: "GFLOP/s"
        case .softmax, .crossEntropy: "GB/s"
        case .train, .infer: "samples/s"
        }
    }
}

/// One measurement: a case on one backend. Its JSON keys (`case`, `variant`, `shape`,
/// `backend`, `threads`, `median_seconds`, `min_seconds`, `max_seconds`, `repeats`, and one of
/// `gflops` + `percent_of_peak`, `gbps`, `samples_per_second`; `round_figures` with several
/// rounds) are the contract that
/// `scripts/bench-peers` reads.
public struct BenchRecord: Sendable, Codable, Equatable {
    /// The case kind (`case` in JSON).
    public var kind: BenchKind
    /// NN/NT/TN for gemm; the network (e.g. `784-256-128-10`) for train and infer; `rows`
    /// for softmax and cross-entropy.
    public var variant: String
    /// `MxNxK` for gemm, `RxC` for softmax/cross-entropy, `batch=128` for train/infer.
    public var shape: String
    /// The backend's registry name.
    public var backend: String
    /// Threads the backend computed with.
    public var threads: Int
    /// Seconds per call (one GEMM, one softmax, one training step, one forward pass).
    public var medianSeconds: Double
    /// The fastest sample, seconds per call.
    public var minSeconds: Double
    /// The slowest sample, seconds per call.
    public var maxSeconds: Double
    /// Samples taken after warm-up.
    public var repeats: Int
    /// GFLOP/s at the median time (GEMM and convolution cases).
    public var gflops: Double?
    /// GFLOP/s as a percentage of the measured FP32 peak at this thread count.
    public var percentOfPeak: Double?
    /// GB/s moved at the median time (softmax and cross-entropy cases).
    public var gbps: Double?
    /// Samples per second at the median time (train and infer cases).
    public var samplesPerSecond: Double?
    /// With more than one round (`backprop bench --rounds`), the figure of each round in the
    /// order run (`round_figures` in JSON; absent with one round). The median time above is
    /// then the median over the rounds of each round's median (with an even number of rounds,
    /// the mean of the middle two times, so the figure is then close to, not exactly, the
    /// median of these).
    public var roundFigures: [Double]?

    enum CodingKeys: String, CodingKey {
        case kind = "case"
        case variant, shape, backend, threads
        case medianSeconds = "median_seconds"
        case minSeconds = "min_seconds"
        case maxSeconds = "max_seconds"
        case repeats, gflops
        case percentOfPeak = "percent_of_peak"
        case gbps
        case samplesPerSecond = "samples_per_second"
        case roundFigures = "round_figures"
    }

    /// A record of `timing` for one case on one backend, with the figure that suits its kind.
    public init(kind: BenchKind, variant: String, shape: String, backend: String, threads: Int,
                timing: BenchTiming, gflops: Double? = nil, percentOfPeak: Double? = nil,
                gbps: Double? = nil, samplesPerSecond: Double? = nil) {
        self.kind = kind
        self.variant = variant
        self.shape = shape
        self.backend = backend
        self.threads = threads
        self.medianSeconds = timing.median
        self.minSeconds = timing.min
        self.maxSeconds = timing.max
        self.repeats = timing.samples.count
        self.gflops = gflops
        self.percentOfPeak = percentOfPeak
        self.gbps = gbps
        self.samplesPerSecond = samplesPerSecond
    }

    /// The case's figure in its ``BenchKind/unit``.
    public var figure: Double {
        gflops ?? gbps ?? samplesPerSecond ?? 0
    }

    /// The row key of the side-by-side table: the same case and shape on every backend.
    public var caseKey: String { "\(kind.rawValue) \(variant) \(shape)" }
}
