import Foundation
import Testing
@testable import Backprop

/// A clock that only moves when the fake work advances it.
final class FakeBenchClock: BenchClock {
    var time = 0.0
    func now() -> Double { time }
}

@Suite struct BenchTests {
    /// Work whose n-th call takes durations[n] fake seconds (the last one repeats).
    static func scriptedWork(_ clock: FakeBenchClock, _ durations: [Double]) -> () -> Void {
        var call = 0
        return {
            clock.time += durations[min(call, durations.count - 1)]
            call += 1
        }
    }

    @Test func medianMinMaxOfAnOddNumberOfSamples() {
        let clock = FakeBenchClock()
        // Warm-up (not counted) takes 9 s; then five samples.
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 5, minSampleTime: 0)
        let timing = BenchRunner(settings: settings, clock: clock)
            .measure(Self.scriptedWork(clock, [9, 3, 1, 5, 2, 4]))
        #expect(timing.samples == [3, 1, 5, 2, 4])
        #expect(timing.median == 3)
        #expect(timing.min == 1)
        #expect(timing.max == 5)
        #expect(timing.callsPerSample == 1)
    }

    @Test func medianOfAnEvenNumberOfSamplesIsTheMeanOfTheMiddleTwo() {
        let timing = BenchTiming(samples: [4, 1, 3, 2])
        #expect(timing.median == 2.5)
        #expect(timing.min == 1 && timing.max == 4)
    }

    @Test func keepsSamplingUntilTheMinimumTimeIsReached() {
        let clock = FakeBenchClock()
        let settings = BenchSettings(warmupCalls: 2, minTime: 10, minRepeats: 2, minSampleTime: 0)
        let timing = BenchRunner(settings: settings, clock: clock).measure(Self.scriptedWork(clock, [1]))
        // 1 s per call: two warm-up calls, then ten samples to reach 10 s.
        #expect(timing.samples.count == 10)
        #expect(clock.time == 12)
    }

    @Test func keepsSamplingUntilTheMinimumRepeatsAreReached() {
        let clock = FakeBenchClock()
        let settings = BenchSettings(warmupCalls: 1, minTime: 1, minRepeats: 7, minSampleTime: 0)
        let timing = BenchRunner(settings: settings, clock: clock).measure(Self.scriptedWork(clock, [5]))
        #expect(timing.samples.count == 7)
    }

    @Test func stopsAtTheMaximumRepeats() {
        let clock = FakeBenchClock()
        let settings = BenchSettings(warmupCalls: 1, minTime: 1e9, minRepeats: 1, maxRepeats: 4, minSampleTime: 0)
        let timing = BenchRunner(settings: settings, clock: clock).measure(Self.scriptedWork(clock, [1]))
        #expect(timing.samples.count == 4)
    }

    @Test func shortWorkIsBatchedAndReportedPerCall() {
        let clock = FakeBenchClock()
        // Each call takes 0.1 ms; a sample must last 1 ms, so it makes 10 calls.
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 3, minSampleTime: 0.001)
        let timing = BenchRunner(settings: settings, clock: clock).measure(Self.scriptedWork(clock, [0.0001]))
        #expect(timing.callsPerSample == 10)
        #expect(timing.samples.count == 3)
        #expect(isClose(timing.median, 0.0001, abs: 1e-12))
    }

    static func sampleRecord(gflops: Double? = nil, gbps: Double? = nil) -> BenchRecord {
        BenchRecord(kind: .gemm, variant: "NN", shape: "2x3x4", backend: "swift", threads: 1,
                    timing: BenchTiming(samples: [0.5, 0.25, 1]), gflops: gflops,
                    percentOfPeak: gflops.map { $0 / 2 }, gbps: gbps)
    }

    @Test func recordJSONHasTheContractKeys() throws {
        let json = try BenchReport.json([Self.sampleRecord(gflops: 9.6)])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        let record = array[0]
        #expect(Set(record.keys) == [
            "case", "variant", "shape", "backend", "threads", "median_seconds", "min_seconds",
            "max_seconds", "repeats", "gflops", "percent_of_peak",
        ])
        #expect(record["case"] as? String == "gemm")
        #expect(record["shape"] as? String == "2x3x4")
        #expect(record["median_seconds"] as? Double == 0.5)
        #expect(record["min_seconds"] as? Double == 0.25)
        #expect(record["max_seconds"] as? Double == 1)
        #expect(record["percent_of_peak"] as? Double == 4.8)
    }

    @Test func crossEntropyKindEncodesWithAnUnderscoreAndRoundTrips() throws {
        var record = Self.sampleRecord(gbps: 3)
        record.kind = .crossEntropy
        let data = try JSONEncoder().encode(record)
        #expect(String(decoding: data, as: UTF8.self).contains("\"case\":\"cross_entropy\""))
        #expect(try JSONDecoder().decode(BenchRecord.self, from: data) == record)
    }

    @Test func emptyJSONIsAnEmptyArray() throws {
        #expect(try BenchReport.json([]) == "[]")
    }

    @Test func csvHasOneHeaderAndTheSameColumnsPerRow() {
        let csv = BenchReport.csv([Self.sampleRecord(gflops: 1), Self.sampleRecord(gbps: 2)])
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == Substring(BenchReport.columns.joined(separator: ",")))
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 13 })
        #expect(lines[2].hasPrefix("gemm,NN,2x3x4,swift,1,0.5,0.25,1.0,3,,,2.0,"))
    }

    @Test func sideBySideShowsTheSpeedupOverTheReference() {
        var fast = Self.sampleRecord(gflops: 30)
        fast.backend = "c"
        let table = BenchReport.sideBySide([Self.sampleRecord(gflops: 10), fast], skipped: [],
                                           backends: ["swift", "c"])
        let lines = table.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("c/swift"))
        #expect(lines[1].hasPrefix("gemm NN 2x3x4"))
        #expect(lines[1].hasSuffix("3.0x"))
    }

    @Test func skippedCasesShowInTheTable() {
        var fast = Self.sampleRecord(gflops: 30)
        fast.backend = "c"
        let skip = BenchSkip(caseKey: fast.caseKey, backend: "swift", reason: "too slow")
        let table = BenchReport.sideBySide([fast], skipped: [skip], backends: ["swift", "c"])
        #expect(table.contains("skipped"))
    }

    @Test func sideBySideWithoutTheReferenceGivesTheFirstBackendOverEachOther() {
        var c = Self.sampleRecord(gflops: 30)
        c.backend = "c"
        var openblas = Self.sampleRecord(gflops: 40)
        openblas.backend = "openblas"
        let table = BenchReport.sideBySide([c, openblas], skipped: [], backends: ["c", "openblas"])
        let lines = table.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix("c/openblas"))
        #expect(lines[1].hasSuffix("0.75x"))
        // With the reference selected, the columns stay "x/swift".
        var swift = Self.sampleRecord(gflops: 3)
        swift.backend = "swift"
        let withReference = BenchReport.sideBySide([swift, c], skipped: [], backends: ["swift", "c"])
        #expect(withReference.split(separator: "\n")[0].hasSuffix("c/swift"))
        #expect(withReference.split(separator: "\n")[1].hasSuffix("10.0x"))
    }

    @Test func ratioOverRoundsIsTheMedianOfPerRoundRatiosNotTheRatioOfMedians() throws {
        var a = Self.sampleRecord(gflops: 20)
        var b = Self.sampleRecord(gflops: 10)
        // Per round 10/10, 20/10, 30/60: ratios 1, 2, 0.5 -> median 1 (the figures' ratio is 2).
        a.roundFigures = [10, 20, 30]
        b.roundFigures = [10, 10, 60]
        #expect(BenchReport.ratio(a, over: b) == 1)
        // Unequal round counts or one round: the figures' ratio.
        b.roundFigures = [10, 10]
        #expect(BenchReport.ratio(a, over: b) == 2)
        a.roundFigures = nil
        b.roundFigures = nil
        #expect(BenchReport.ratio(a, over: b) == 2)
        b.gflops = 0
        #expect(BenchReport.ratio(a, over: b) == nil)
        let json = try BenchReport.json([Self.sampleRecord(gflops: 1)])
        #expect(!json.contains("round_figures"))
    }

    @Test func roundsAlternateTheOrderAndCombineIntoOneRecordPerCaseAndBackend() throws {
        let swift = BenchBackend(name: "swift", threads: 1) { SwiftBackend() }
        let c = BenchBackend(name: "c", threads: 1) { try BackendRegistry.make(name: "c", threads: 1, environment: ProcessEnvironment.current) }
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 2, minSampleTime: 0, settleTime: 0)
        let suite = BenchSuite(backends: [swift, c], settings: settings, peak: nil, forceReference: false, rounds: 3)
        let cases = [BenchCases.gemmCase(m: 8, n: 6, k: 5, transA: false, transB: false), BenchCases.softmaxCase(rows: 4, cols: 10)]
        var seen: [String] = []
        let (records, skipped) = try suite.run(cases, onRecord: { seen.append("\($0.kind.rawValue):\($0.backend)") })
        #expect(skipped.isEmpty)
        // Round 0 in the given order, round 1 reversed, round 2 in order again.
        #expect(seen == ["gemm:swift", "gemm:c", "softmax:swift", "softmax:c",
                         "gemm:c", "gemm:swift", "softmax:c", "softmax:swift",
                         "gemm:swift", "gemm:c", "softmax:swift", "softmax:c"])
        #expect(records.map { "\($0.kind.rawValue):\($0.backend)" } == ["gemm:swift", "gemm:c", "softmax:swift", "softmax:c"])
        for record in records {
            let figures = try #require(record.roundFigures)
            #expect(figures.count == 3 && figures.allSatisfy { $0 > 0 })
            // The record's figure is the one at the median of the rounds' medians: the middle round figure.
            let middle = figures.sorted()[1]
            #expect(abs(record.figure - middle) <= 1e-9 * middle)
            #expect(record.repeats >= 6)
            #expect(record.minSeconds <= record.medianSeconds && record.medianSeconds <= record.maxSeconds)
        }
    }

    /// A suite whose settling waits run on a fake clock that only the waits advance.
    static func settlingSuite(_ backends: [BenchBackend], settleBeforeFirst: Bool, rounds: Int,
                              time: FakeBenchClock, pauses: @escaping (Double) -> Void) -> BenchSuite {
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 1, minSampleTime: 0, settleTime: 0.25)
        var suite = BenchSuite(backends: backends, settings: settings, peak: nil, forceReference: false,
                               rounds: rounds, settleBeforeFirst: settleBeforeFirst)
        suite.now = { time.now() }
        suite.sleep = { seconds in
            pauses(seconds)
            time.time += seconds
        }
        return suite
    }

    @Test func waitsForADifferentMultithreadedBackendToSettleAndOnlyThen() throws {
        let swift = BenchBackend(name: "swift", threads: 1) { SwiftBackend() }
        let c2 = BenchBackend(name: "c", threads: 2) { try BackendRegistry.make(name: "c", threads: 2, environment: ProcessEnvironment.current) }
        let c1 = BenchBackend(name: "c", threads: 1) { try BackendRegistry.make(name: "c", threads: 1, environment: ProcessEnvironment.current) }
        let cases = [BenchCases.gemmCase(m: 8, n: 6, k: 5, transA: false, transB: false), BenchCases.softmaxCase(rows: 4, cols: 10)]
        for settleBeforeFirst in [false, true] {
            let time = FakeBenchClock()
            var pauses: [Double] = []
            let suite = Self.settlingSuite([swift, c2], settleBeforeFirst: settleBeforeFirst, rounds: 2, time: time) { pauses.append($0) }
            var order: [String] = []
            _ = try suite.run(cases, onRecord: { order.append($0.backend) })
            #expect(order == ["swift", "c", "swift", "c", "c", "swift", "c", "swift"])
            // Round 1: swift before the second case's swift (c's team went idle); round 2
            // (reversed): swift after c in both cases. Never before c after c, nor before c
            // once the wait for the probe has passed. Each wait is the whole 0.25 s here
            // because only waits move the fake clock.
            #expect(pauses == Array(repeating: 0.25, count: settleBeforeFirst ? 4 : 3), "settleBeforeFirst \(settleBeforeFirst)")
        }
        // Nothing multithreaded: no waits at all.
        let time = FakeBenchClock()
        var pauses: [Double] = []
        let quiet = Self.settlingSuite([swift, c1], settleBeforeFirst: false, rounds: 2, time: time) { pauses.append($0) }
        _ = try quiet.run(cases)
        #expect(pauses.isEmpty)
        #expect(BenchSettings().settleTime == 0.25)
    }

    @Test func roundsPairOnlyTheBackendsThatRanAndReportASkipOnce() throws {
        let swift = BenchBackend(name: "swift", threads: 1) { SwiftBackend() }
        let c = BenchBackend(name: "c", threads: 1) { try BackendRegistry.make(name: "c", threads: 1, environment: ProcessEnvironment.current) }
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 1, minSampleTime: 0, settleTime: 0)
        let suite = BenchSuite(backends: [swift, c], settings: settings, peak: nil, forceReference: false, rounds: 3)
        let slow = BenchCases.gemmCase(m: 9, n: 7, k: 5, transA: false, transB: false, tooSlowForReference: true)
        var rounds: [Int] = []
        let (records, skipped) = try suite.run([slow], onRound: { rounds.append($0) })
        #expect(rounds == [1, 2, 3])
        #expect(skipped.map(\.backend) == ["swift"])
        #expect(records.map(\.backend) == ["c"] && records[0].roundFigures?.count == 3)
        // The record's JSON carries the round figures; the table compares nothing with a
        // reference that did not run.
        let json = try BenchReport.json(records)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect((array[0]["round_figures"] as? [Double])?.count == 3)
        var openblas = records[0]
        openblas.backend = "openblas"
        let table = BenchReport.sideBySide(records + [openblas], skipped: skipped, backends: ["swift", "c", "openblas"])
        let header = table.split(separator: "\n")[0]
        #expect(header.hasSuffix("c/openblas") && !header.contains("/swift"))
        #expect(table.split(separator: "\n")[1].hasSuffix("1.00x"))
    }

    @Test func readsTheClockFromACpuinfoFile() throws {
        let path = TestScratch.file("cpuinfo")
        try "processor\t: 0\nmodel name\t: Test CPU\ncpu MHz\t\t: 2596.140\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(PeakProbe.cpuMegahertz(path: path) == 2596.140)
        #expect(PeakProbe.cpuMegahertz(path: path + ".missing") == nil)
    }

    @Test func convAndLeNetCasesRunOnTheCBackend() throws {
        let backend = BenchBackend(name: "c", threads: 1) { try BackendRegistry.make(name: "c", threads: 1, environment: ProcessEnvironment.current) }
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 2, minSampleTime: 0)
        let suite = BenchSuite(backends: [backend], settings: settings, peak: nil, forceReference: false)
        let cases = [
            BenchCases.convCase(inChannels: 2, outChannels: 3, kernel: 3, size: 7, padding: 1, batch: 2, backward: false),
            BenchCases.convCase(inChannels: 2, outChannels: 3, kernel: 3, size: 7, padding: 1, batch: 2, backward: true),
            BenchCases.lenetTrainCase(batch: 2, data: SyntheticData(samples: 8, maxBatches: 2)),
        ]
        let (records, _) = try suite.run(cases)
        #expect(records.map(\.kind) == [.conv, .conv, .train])
        #expect(records[0].variant == "forward" && records[0].shape == "2x3x3x7 b=2" && (records[0].gflops ?? 0) > 0)
        #expect(records[2].variant == "lenet" && records[2].shape == "batch=2" && (records[2].samplesPerSecond ?? 0) > 0)
    }

    @Test func tinyRealCasesGivePositiveFiguresOnSwift() throws {
        let backend = BenchBackend(name: "swift", threads: 1) { SwiftBackend() }
        let settings = BenchSettings(warmupCalls: 1, minTime: 0, minRepeats: 2, minSampleTime: 0)
        let suite = BenchSuite(backends: [backend], settings: settings, peak: nil, forceReference: false)
        let data = SyntheticData(samples: 64, maxBatches: 2)
        let cases = [
            BenchCases.gemmCase(m: 8, n: 6, k: 5, transA: true, transB: false),
            BenchCases.gemmCase(m: 2048, n: 2048, k: 2048, transA: false, transB: false, tooSlowForReference: true),
            BenchCases.softmaxCase(rows: 4, cols: 10),
            BenchCases.crossEntropyCase(rows: 4, cols: 10),
            BenchCases.trainCase(widths: [25, 8, 2], batch: 8, data: data),
            BenchCases.inferCase(widths: [25, 8, 2], batch: 16),
            BenchCases.lenetTrainCase(batch: 64, data: data),
        ]
        let (records, skipped) = try suite.run(cases)
        #expect(records.map(\.kind) == [.gemm, .softmax, .crossEntropy, .train, .infer])
        #expect(records.allSatisfy { $0.figure > 0 && $0.medianSeconds > 0 && $0.repeats >= 2 })
        #expect(records.allSatisfy { $0.minSeconds <= $0.medianSeconds && $0.medianSeconds <= $0.maxSeconds })
        #expect(records[0].shape == "8x6x5" && records[0].variant == "TN" && records[0].gflops != nil)
        #expect(records[3].variant == "25-8-2" && records[3].shape == "batch=8")
        // Each skip says how to force it: --sizes for a GEMM, the case's own command otherwise.
        #expect(skipped.count == 2 && skipped[0].reason.contains("use --backend swift --sizes 2048 to force"))
        #expect(skipped.count == 2 && skipped[1].reason.contains("use `backprop bench train --backend swift` to force"))
    }

    @Test func gemmCaseCountsTwoMNKFlopsAndRuns() throws {
        let gemm = BenchCases.gemmCase(m: 3, n: 4, k: 5, transA: false, transB: true)
        #expect(gemm.workPerCall == 2 * 3 * 4 * 5)
        #expect(gemm.figure(seconds: 1e-9) == 120)
        let work = try gemm.prepare(SwiftBackend())
        try work()
    }

    @Test func peakForThreadsNeverFallsBelowTheScaledSingleThreadFigure() {
        let peak = PeakEstimate(singleThread: 100, multiThread: 120, threads: 2, method: "", nominal: nil,
                                nominalFormula: "")
        #expect(peak.gflops(threads: 1) == 100)
        let cores = Double(min(2, ThreadSettings.activeCores))
        #expect(peak.gflops(threads: 2) == max(120, 100 * cores))
    }

    @Test func networksAlternateDenseAndReLU() {
        let model = BenchCases.network([784, 256, 128, 10])
        #expect(model.layers.map(\.summary) == ["Dense(784 → 256)", "ReLU", "Dense(256 → 128)", "ReLU", "Dense(128 → 10)"])
    }
}
