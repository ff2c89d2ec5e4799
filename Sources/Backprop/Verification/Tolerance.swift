/// How far a backend's result may be from the reference's, element by element:
///
///     |result − reference| ≤ absolute + relative · |reference| + accumulation · N · ε · scale
///
/// where ε is `Float.ulpOfOne` and N, scale are what the op sums over (for GEMM, N = K + 2 and
/// scale = |α|·max|A|·max|B| + |β|·max|C|, the classic bound on a dot product's rounding error
/// for both backends together). Zero everywhere means the results must be equal.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    /// The constant term, in the units of the values.
    public let absolute: Double
    /// The factor on |reference|.
    public let relative: Double
    /// The constant c of the accumulation term (0 when the op sums nothing).
    public let accumulation: Double
    /// What N and scale are for this op, as shown in ``description``.
    public let accumulationTerm: String

    /// A tolerance with the given terms.
    public init(absolute: Double, relative: Double, accumulation: Double = 0, accumulationTerm: String = "") {
        self.absolute = absolute
        self.relative = relative
        self.accumulation = accumulation
        self.accumulationTerm = accumulationTerm
    }

    /// The largest |result − reference| allowed for one element.
    public func allowed(reference: Double, terms: Int = 0, scale: Double = 0) -> Double {
        absolute + relative * abs(reference)
            + accumulation * Double(terms) * Double(Float.ulpOfOne) * scale
    }

    /// The bound as text: `exact`, or e.g. `|Δ| ≤ 1e-06 + 1e-05·|ref|`.
    public var description: String {
        if absolute == 0 && relative == 0 && accumulation == 0 { return "exact" }
        var parts: [String] = []
        if absolute != 0 { parts.append("\(absolute)") }
        if relative != 0 { parts.append("\(relative)·|ref|") }
        if accumulation != 0 { parts.append(formatCoefficient(accumulation) + accumulationTerm) }
        return "|Δ| ≤ " + parts.joined(separator: " + ")
    }

    private func formatCoefficient(_ c: Double) -> String {
        c == 1 ? "" : (c == c.rounded() ? String(Int(c)) : String(c)) + "·"
    }
}

extension VerifiedOp {
    /// The tolerance of every op, in this one table.
    public var tolerance: Tolerance {
        switch self {
        case .gemm:
            // Rounding in a K-term dot product grows like K·ε·Σ|a||b|; both backends round.
            Tolerance(absolute: 0, relative: 0, accumulation: 2,
                      accumulationTerm: "(K+2)·ε·(|α|·max|A|·max|B| + |β|·max|C|)")
        case .sumColumns:
            Tolerance(absolute: 0, relative: 1e-6, accumulation: 2,
                      accumulationTerm: "(rows+1)·ε·max|x|")
        case .addBias, .reluForward, .reluBackward, .sigmoidBackward, .tanhBackward:
            // One to three roundings per element; FMA contraction may differ.
            Tolerance(absolute: 1e-6, relative: 1e-5)
        case .sigmoidForward, .tanhForward, .binaryCrossEntropy:
            // exp-based: a vectorized exp may differ from libm by a few ulp.
            Tolerance(absolute: 1e-6, relative: 1e-5)
        case .softmaxRows, .softmaxCrossEntropyLabels, .softmaxCrossEntropyTargets:
            // exp-based, and each row is normalized by a sum over its columns.
            Tolerance(absolute: 1e-6, relative: 1e-5, accumulation: 1, accumulationTerm: "cols·ε·|ref|")
        case .squaredError:
            Tolerance(absolute: 1e-6, relative: 1e-5)
        case .softmaxCrossEntropyLabelsLoss, .softmaxCrossEntropyTargetsLoss,
             .squaredErrorLoss, .binaryCrossEntropyLoss:
            // A sum of non-negative per-element terms, each with a few ulp of error.
            Tolerance(absolute: 1e-6, relative: 1e-5, accumulation: 8,
                      accumulationTerm: "count·ε·(1 + max|input|)")
        case .sumOfSquares:
            // Accumulated in Double by contract, so only the Float squares round.
            Tolerance(absolute: 0, relative: 1e-5)
        case .argmaxRows, .fill, .copy, .scale:
            // Indices, copies and one correctly rounded multiply: no room for difference.
            Tolerance(absolute: 0, relative: 0)
        case .sgdUpdate, .adamUpdate:
            Tolerance(absolute: 1e-6, relative: 1e-6)
        case .im2col, .swapLeadingAxes, .maxPool2dForward, .multiply:
            // Copies, a maximum and one multiply: no room for difference.
            Tolerance(absolute: 0, relative: 0)
        case .col2im, .maxPool2dBackward, .avgPool2dForward, .avgPool2dBackward, .addChannelBias:
            // Sums of at most kh·kw terms per element, possibly in another order.
            Tolerance(absolute: 1e-6, relative: 1e-5)
        case .conv2dForward, .conv2dBackwardData, .conv2dBackwardWeight:
            // Dot products like a GEMM's, summed in another order (N terms per element: C·kh·kw
            // forward, K·kh·kw for dx, batch·outH·outW for dW).
            Tolerance(absolute: 0, relative: 0, accumulation: 2,
                      accumulationTerm: "(N+2)·ε·max|a|·max|b|")
        case .sumChannels, .batchNormStatistics, .batchNormForward, .batchNormBackward:
            // Sums accumulated in Double by contract, then a few Float roundings.
            Tolerance(absolute: 1e-5, relative: 1e-5)
        }
    }
}
