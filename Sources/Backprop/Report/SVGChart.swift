#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A line chart of per-epoch values as one inline `<svg>` element: axes with "nice" ticks,
/// axis labels, a title, a legend, one polyline per series (broken where a value is missing).
struct SVGChart {
    struct Series {
        let name: String
        /// A CSS color.
        let color: String
        /// One value per epoch (epoch i + 1 at index i); nil where there is none.
        let values: [Double?]
        var dashed = false
    }

    var title: String
    var xLabel = "epoch"
    var yLabel: String
    var series: [Series]
    /// Forces the y range's top (1 for accuracy); otherwise it comes from the data.
    var yMax: Double?
    /// Formats a y tick.
    var yFormat: (Double) -> String = { formatFixed($0, decimals: 2) }
    var width = 520.0, height = 320.0

    // The plot area inside the margins (left leaves room for tick labels and the y label).
    private var left: Double { 64 }
    private var right: Double { width - 16 }
    private var top: Double { 52 }
    private var bottom: Double { height - 48 }

    /// The chart as SVG markup; every text is escaped.
    func render() -> String {
        let epochs = max(series.map(\.values.count).max() ?? 0, 1)
        let finite = series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite)
        // With a fixed top (accuracy), keep at least a tenth of it visible below, so a run that
        // sits at 100% from the first epoch still gets a readable axis.
        let dataLow = finite.min() ?? 0
        let low = yMax.map { min(dataLow, $0 - 0.1) } ?? dataLow
        let (yLow, yHigh, yStep) = Self.niceRange(low: low, high: yMax ?? finite.max() ?? 1,
                                                  ticks: 5, fromZero: yMax == nil)
        let xHigh = Double(max(epochs, 2))
        func px(_ epoch: Double) -> Double { left + (epoch - 1) / (xHigh - 1) * (right - left) }
        func py(_ v: Double) -> Double { bottom - (v - yLow) / (yHigh - yLow) * (bottom - top) }

        var svg = "<svg class=\"chart\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(escapeHTML(title))\">"
        svg += "<title>\(escapeHTML(title))</title>"
        svg += "<text x=\"\(n(width / 2))\" y=\"20\" text-anchor=\"middle\" class=\"chart-title\">\(escapeHTML(title))</text>"
        // Horizontal grid lines and y ticks.
        var v = yLow
        while v <= yHigh + yStep * 1e-6 {
            let y = py(v)
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(right))\" y2=\"\(n(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\" class=\"tick\">\(escapeHTML(yFormat(v)))</text>"
            v += yStep
        }
        // X ticks at whole epochs.
        let xStep = max(1, Int(Self.niceStep(Double(epochs - 1) / 6)))
        var xTicks = Array(stride(from: 1, through: epochs, by: xStep))
        // Label the last epoch too when it is not too close to the previous tick.
        if let last = xTicks.last, last != epochs, Double(epochs - last) >= Double(xStep) / 2 { xTicks.append(epochs) }
        for epoch in xTicks {
            let x = px(Double(epoch))
            svg += "<line x1=\"\(n(x))\" y1=\"\(n(bottom))\" x2=\"\(n(x))\" y2=\"\(n(bottom + 5))\" class=\"axis\"/>"
            svg += "<text x=\"\(n(x))\" y=\"\(n(bottom + 18))\" text-anchor=\"middle\" class=\"tick\">\(epoch)</text>"
        }
        // Axes and their labels.
        svg += "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(bottom))\" class=\"axis\"/>"
        svg += "<line x1=\"\(n(left))\" y1=\"\(n(bottom))\" x2=\"\(n(right))\" y2=\"\(n(bottom))\" class=\"axis\"/>"
        svg += "<text x=\"\(n((left + right) / 2))\" y=\"\(n(height - 10))\" text-anchor=\"middle\" class=\"label\">\(escapeHTML(xLabel))</text>"
        let yMid = (top + bottom) / 2
        svg += "<text x=\"16\" y=\"\(n(yMid))\" text-anchor=\"middle\" class=\"label\" "
            + "transform=\"rotate(-90 16 \(n(yMid)))\">\(escapeHTML(yLabel))</text>"
        // The series: a polyline per run of present values, dots when there are few epochs.
        for s in series {
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    svg += "<polyline points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color)\" "
                        + "stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>"
                }
                run = []
            }
            for (i, value) in s.values.enumerated() {
                guard let value, value.isFinite else { flush(); continue }
                let point = "\(n(px(Double(i + 1)))),\(n(py(min(max(value, yLow), yHigh))))"
                run.append(point)
                if epochs <= 40 || run.count == 1 {
                    svg += "<circle cx=\"\(n(px(Double(i + 1))))\" cy=\"\(n(py(min(max(value, yLow), yHigh))))\" "
                        + "r=\"2.5\" fill=\"\(s.color)\"/>"
                }
            }
            flush()
        }
        // Legend: one row above the plot, right-aligned, so it never covers a curve.
        var legendX = right
        for s in series.reversed() {
            legendX -= 30 + 7 * Double(s.name.count)
            svg += "<line x1=\"\(n(legendX))\" y1=\"\(n(top - 16))\" x2=\"\(n(legendX + 20))\" y2=\"\(n(top - 16))\" "
                + "stroke=\"\(s.color)\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>"
            svg += "<text x=\"\(n(legendX + 25))\" y=\"\(n(top - 12))\" class=\"legend\">\(escapeHTML(s.name))</text>"
        }
        return svg + "</svg>"
    }

    /// A short decimal for coordinates.
    private func n(_ x: Double) -> String { formatFixed(x, decimals: 1) }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, floor(log10(raw)))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    /// A range covering [low, high] that starts and ends on ticks about `ticks` apart; it starts
    /// at 0 when `fromZero` and the data are not negative.
    static func niceRange(low: Double, high: Double, ticks: Int, fromZero: Bool) -> (Double, Double, Double) {
        var lo = fromZero ? min(0, low) : low
        var hi = max(high, lo)
        if hi - lo < 1e-12 { hi = lo + 1 }
        let step = niceStep((hi - lo) / Double(ticks))
        lo = floor(lo / step) * step
        hi = ceil(hi / step) * step
        return (lo, hi, step)
    }
}
