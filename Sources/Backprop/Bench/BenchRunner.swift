/// A source of time in seconds. The runner takes one so its statistics can be tested on a
/// fake clock; ``MonotonicBenchClock`` is the real one.
public protocol BenchClock {
    /// Seconds since an arbitrary, fixed origin; never decreases.
    func now() -> Double
}

/// The system's monotonic clock (`ContinuousClock`), in seconds.
public struct MonotonicBenchClock: BenchClock {
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// A clock whose origin is now.
    public init() { origin = clock.now }

    public func now() -> Double {
        let d = clock.now - origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// How long and how often the runner measures one piece of work.
public struct BenchSettings: Sendable, Equatable {
    /// Calls made (and not measured) before timing, to warm caches, page in buffers and let
    /// thread pools start.
    public var warmupCalls: Int
    /// Keep measuring until the samples add up to at least this many seconds...
    public var minTime: Double
    /// ...and there are at least this many samples.
    public var minRepeats: Int
    /// Stop after this many samples even if `minTime` is not reached.
    public var maxRepeats: Int
    /// A sample shorter than this repeats the work in a loop (and reports the time per call),
    /// so clock overhead and resolution do not dominate microsecond-sized work.
    public var minSampleTime: Double
    /// Seconds that must pass after a multithreaded backend finishes before a different
    /// backend is timed (see ``BenchSuite/run(_:onRound:onRecord:onSkip:)``). A thread pool keeps its idle threads spinning for a while
    /// after its last call (measured on a 2-CPU AMD EPYC Zen 3: libomp, which the `c` backend
    /// uses, kept one to two CPUs busy for about 200 ms; OpenBLAS one CPU for about 100 ms),
    /// and those spinning threads would take CPUs from the next backend's timed calls. The
    /// wait is what is left of this time since that backend finished; at most 60 s.
    public var settleTime: Double

    /// Settings; the defaults measure for at least half a second and five samples, and let a
    /// previous backend's threads settle for 0.25 s.
    public init(warmupCalls: Int = 1, minTime: Double = 0.5, minRepeats: Int = 5,
                maxRepeats: Int = 100_000, minSampleTime: Double = 0.001, settleTime: Double = 0.25) {
        self.warmupCalls = warmupCalls
        self.minTime = minTime
        self.minRepeats = minRepeats
        self.maxRepeats = maxRepeats
        self.minSampleTime = minSampleTime
        self.settleTime = settleTime
    }
}

/// The spread of the seconds one call of some work took.
public struct BenchTiming: Sendable, Equatable {
    /// Seconds per call, one per sample, in the order measured.
    public let samples: [Double]
    /// Calls per sample (more than one for very short work).
    public let callsPerSample: Int
    /// The median seconds per call.
    public let median: Double
    /// The fastest sample, seconds per call.
    public let min: Double
    /// The slowest sample, seconds per call.
    public let max: Double

    /// The statistics of `samples` (seconds per call each).
    ///
    /// - Precondition: `samples` is not empty.
    public init(samples: [Double], callsPerSample: Int = 1) {
        precondition(!samples.isEmpty, "a timing needs at least one sample")
        self.samples = samples
        self.callsPerSample = callsPerSample
        let sorted = samples.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }
}

/// Times work: warm-up, then samples until both a minimum total time and a minimum number of
/// samples are reached; reports the median and the min/max per call.
public struct BenchRunner<Clock: BenchClock> {
    /// How long and how often to measure.
    public let settings: BenchSettings
    /// Where the time comes from.
    public let clock: Clock

    /// A runner with the given settings and clock.
    public init(settings: BenchSettings, clock: Clock) {
        self.settings = settings
        self.clock = clock
    }

    /// Measures `work`, which should do the same amount of work on every call.
    public func measure(_ work: () throws -> Void) rethrows -> BenchTiming {
        // The warm-up's last call also calibrates how many calls make one sample.
        var lastCall = 0.0
        for _ in 0..<Swift.max(settings.warmupCalls, 1) {
            let start = clock.now()
            try work()
            lastCall = clock.now() - start
        }
        var calls = 1
        if lastCall < settings.minSampleTime {
            calls = Swift.min(Int((settings.minSampleTime / Swift.max(lastCall, 1e-9)).rounded(.up)), 1_000_000)
        }
        var samples: [Double] = []
        var total = 0.0
        repeat {
            let start = clock.now()
            for _ in 0..<calls { try work() }
            let elapsed = clock.now() - start
            samples.append(elapsed / Double(calls))
            total += elapsed
        } while samples.count < settings.maxRepeats
            && (samples.count < settings.minRepeats || total < settings.minTime)
        return BenchTiming(samples: samples, callsPerSample: calls)
    }
}

extension BenchRunner where Clock == MonotonicBenchClock {
    /// A runner on the system's monotonic clock.
    public init(settings: BenchSettings) {
        self.init(settings: settings, clock: MonotonicBenchClock())
    }
}
