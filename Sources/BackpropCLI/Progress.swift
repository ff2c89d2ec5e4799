#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Backprop

/// Training progress on stderr: on a terminal, a bar redrawn in place (at most ten times a
/// second) and a line per epoch; otherwise only the epoch lines; nothing when quiet.
final class ProgressDisplay {
    enum Mode { case bar, lines, quiet }

    let mode: Mode
    private let clock = ContinuousClock()
    private var lastDraw: ContinuousClock.Instant?
    private var barVisible = false
    private var lastLine: ContinuousClock.Instant?
    private static let minimumRedraw = Duration.milliseconds(100)

    private let terminalColumns: Int

    init(mode: Mode) {
        self.mode = mode
        var size = winsize()
        terminalColumns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    /// `.bar` when stderr is a terminal, `.lines` otherwise, `.quiet` when asked.
    static func automatic(quiet: Bool) -> ProgressDisplay {
        ProgressDisplay(mode: quiet ? .quiet : (isatty(2) != 0 ? .bar : .lines))
    }

    /// A line of information (not shown when quiet).
    func note(_ text: String) {
        guard mode != .quiet else { return }
        clearBar()
        writeStderr(text + "\n")
    }

    /// After each minibatch: redraws the bar when enough time has passed.
    func batch(_ report: BatchReport) {
        guard mode == .bar else { return }
        let now = clock.now
        if let lastDraw, now - lastDraw < Self.minimumRedraw, report.batch < report.batches { return }
        lastDraw = now
        // Never wider than the terminal: a wrapped line could not be redrawn in place.
        writeStderr("\r" + String(Self.bar(report).prefix(terminalColumns - 1)) + "\u{1B}[K")
        barVisible = true
    }

    /// After each epoch: the epoch's line. Long runs show about 20 evenly spaced epochs (and
    /// any epoch a second after the last line shown), so hundreds of tiny epochs stay readable.
    func epoch(_ report: EpochReport) {
        guard mode != .quiet else { return }
        clearBar()
        let every = max(1, CheckedSize.ceilDiv(report.epochs, 20))
        let now = clock.now
        let due = report.epoch == 1 || report.epoch == report.epochs || report.epoch % every == 0
            || lastLine.map { now - $0 >= .seconds(1) } ?? true
        guard due else { return }
        lastLine = now
        writeStderr(Self.line(report) + "\n")
    }

    /// Removes a half-drawn bar, e.g. before an error or interrupt message.
    func clearBar() {
        guard barVisible else { return }
        writeStderr("\r\u{1B}[K")
        barVisible = false
    }

    // epoch  3/20 [██████░░░░░░░░░░░░░░]  15/45 · loss 0.2345 · acc 0.9312 · 14.2k samples/s · ETA 3.1 s
    static func bar(_ r: BatchReport) -> String {
        let width = 20
        let filled = r.batches == 0 ? width : width * r.batch / r.batches
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let perBatch = r.seconds / Double(max(r.batch, 1))
        // In Doubles: batches × epochs left overflows an Int for --epochs near Int.max.
        let remaining = (Double(r.batches - r.batch) + Double(r.batches) * Double(r.epochs - r.epoch)) * perBatch
        var text = "epoch \(padded(r.epoch, like: r.epochs))/\(r.epochs) [\(bar)] "
            + "\(padded(r.batch, like: r.batches))/\(r.batches) · loss \(fixed(r.loss, 4))"
        if let accuracy = r.accuracy { text += " · acc \(fixed(accuracy, 4))" }
        return text + " · \(rate(r.samplesPerSecond)) samples/s · ETA \(duration(remaining))"
    }

    // epoch  3/20 · train loss 0.2345 acc 0.9312 · test loss 0.2012 acc 0.9444 · 14.2k samples/s · 0.10 s
    static func line(_ r: EpochReport) -> String {
        var text = "epoch \(padded(r.epoch, like: r.epochs))/\(r.epochs) · train loss \(fixed(r.trainLoss, 4))"
        if let accuracy = r.trainAccuracy { text += " acc \(fixed(accuracy, 4))" }
        if let loss = r.testLoss {
            text += " · test loss \(fixed(loss, 4))"
            if let accuracy = r.testAccuracy { text += " acc \(fixed(accuracy, 4))" }
        }
        return text + " · \(rate(r.samplesPerSecond)) samples/s · \(duration(r.seconds))"
    }

    private static func padded(_ n: Int, like total: Int) -> String {
        let text = String(n)
        return String(repeating: " ", count: max(0, String(total).count - text.count)) + text
    }
}

/// `x` with a fixed number of decimals: `fixed(0.97222, 4)` is `0.9722`.
func fixed(_ x: Double, _ decimals: Int) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (abs(x) * scale).rounded()
    guard rounded < 1e17 else { return String(x) }
    let whole = UInt64(rounded / scale)
    var fraction = String(UInt64(rounded) - whole * UInt64(scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    return (x < 0 && rounded != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + fraction : "")
}

/// A rate with a k/M suffix: `950`, `12.3k`, `1.25M`.
func rate(_ x: Double) -> String {
    if x >= 1e6 { return fixed(x / 1e6, 2) + "M" }
    if x >= 1e4 { return fixed(x / 1e3, 1) + "k" }
    if x >= 1e3 { return fixed(x / 1e3, 2) + "k" }
    return fixed(x, 0)
}

/// Seconds for humans: `3.2 ms`, `0.42 s`, `12.3 s`, `2 min 05 s`, `3.5 days`, `12 years`,
/// `over a million years` (the ETA of `--epochs 9223372036854775807` passes Int.max seconds).
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    if seconds < 0.1 { return fixed(seconds * 1000, 1) + " ms" }
    if seconds < 10 { return fixed(seconds, 2) + " s" }
    if seconds < 60 { return fixed(seconds, 1) + " s" }
    let day = 86_400.0, year = 365.25 * 86_400
    if seconds >= year {
        let years = seconds / year
        return years < 1e6 ? fixed(years, years < 10 ? 1 : 0) + " years" : "over a million years"
    }
    if seconds >= 2 * day { return fixed(seconds / day, 1) + " days" }
    let total = Int(seconds.rounded())
    let s = total % 60
    return "\(total / 60) min \(s < 10 ? "0" : "")\(s) s"
}
