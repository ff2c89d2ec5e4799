#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The reference implementation of every `Backend` primitive: plain Swift loops over raw
// pointers, written to be obviously correct (and simple enough for the compiler to vectorize).
// These are the protocol's default implementations, so a backend overrides only what it does
// faster, and `SwiftBackend` is exactly these loops. Each one notes its op (`ReferenceUse`), so
// `ReferenceFallbacks.ops(of:)` can say which ops of a backend end up here.
extension Backend {
    // op(A): (m, k), op(B): (k, n) -> C: (m, n)
    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        ReferenceUse.note(.gemm)
        // C = beta * C first; beta == 0 overwrites without reading C.
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                for j in 0..<n { row[j] = 0 }
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
        if k == 0 || alpha == 0 { return }
        for i in 0..<m {
            let cRow = c + i * ldc
            if transB {
                // B stored (n, k): C[i, j] += alpha * dot(op(A)[i, :], B[j, :]).
                for j in 0..<n {
                    let bRow = b + j * ldb
                    var sum: Float = 0
                    for p in 0..<k {
                        let aip = transA ? a[p * lda + i] : a[i * lda + p]
                        sum += aip * bRow[p]
                    }
                    cRow[j] += alpha * sum
                }
            } else {
                // B stored (k, n): C[i, :] += alpha * op(A)[i, p] * B[p, :], one row of B at a time.
                for p in 0..<k {
                    let aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p])
                    let bRow = b + p * ldb
                    for j in 0..<n { cRow[j] += aip * bRow[j] }
                }
            }
        }
    }

    public func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        ReferenceUse.note(.addBias)
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { row[c] += bias[c] }
        }
    }

    public func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        ReferenceUse.note(.sumColumns)
        if !accumulate { for c in 0..<cols { out[c] = 0 } }
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { out[c] += row[c] }
        }
    }

    public func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int
    ) {
        ReferenceUse.note(VerifiedOp.forward(kind))
        switch kind {
        case .relu:
            // NaN propagates (torch.relu): only x ≤ 0 gives 0.
            for i in 0..<count { y[i] = x[i] <= 0 ? 0 : x[i] }
        case .sigmoid:
            for i in 0..<count { y[i] = referenceSigmoid(x[i]) }
        case .tanh:
            for i in 0..<count { y[i] = tanhf(x[i]) }
        }
    }

    public func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        ReferenceUse.note(VerifiedOp.backward(kind))
        switch kind {
        case .relu:
            for i in 0..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
        case .sigmoid:
            for i in 0..<count { dx[i] = dy[i] * y[i] * (1 - y[i]) }
        case .tanh:
            for i in 0..<count { dx[i] = dy[i] * (1 - y[i] * y[i]) }
        }
    }

    public func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        ReferenceUse.note(.softmaxRows)
        for r in 0..<rows {
            let xr = x + r * cols
            let yr = y + r * cols
            var maxValue = -Float.infinity
            for c in 0..<cols { maxValue = max(maxValue, xr[c]) }
            if maxValue == -Float.infinity {
                // Every logit is -inf: no class is preferred. Unless max skipped a NaN: then the
                // row is NaN, as any row holding a NaN.
                let value = referenceRowHasNaN(xr, cols) ? Float.nan : 1 / Float(cols)
                for c in 0..<cols { yr[c] = value }
                continue
            }
            var sum: Float = 0
            for c in 0..<cols {
                let e = expf(xr[c] - maxValue)
                yr[c] = e
                sum += e
            }
            let inverse = 1 / sum
            for c in 0..<cols { yr[c] *= inverse }
        }
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        ReferenceUse.note(.softmaxCrossEntropyLabels, .softmaxCrossEntropyLabelsLoss)
        softmaxRows(logits, y: grad, rows: rows, cols: cols)
        var total = 0.0
        for r in 0..<rows {
            let label = Int(labels[r])
            precondition(label >= 0 && label < cols, "label \(label) is outside 0..<\(cols)")
            total += Double(referenceLogSumExp(logits + r * cols, cols) - logits[r * cols + label])
            let g = grad + r * cols
            g[label] -= 1
            for c in 0..<cols { g[c] *= scale }
        }
        return total
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        ReferenceUse.note(.softmaxCrossEntropyTargets, .softmaxCrossEntropyTargetsLoss)
        softmaxRows(logits, y: grad, rows: rows, cols: cols)
        var total = 0.0
        for r in 0..<rows {
            let z = logits + r * cols
            let t = targets + r * cols
            let g = grad + r * cols
            let lse = referenceLogSumExp(z, cols)
            for c in 0..<cols {
                // -t log p = t (lse - z); skip t == 0 so that a -inf logit with no target mass is fine.
                if t[c] != 0 { total += Double(t[c] * (lse - z[c])) }
                g[c] = (g[c] - t[c]) * scale
            }
        }
        return total
    }

    public func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        ReferenceUse.note(.squaredError, .squaredErrorLoss)
        var total = 0.0
        for i in 0..<count {
            let d = y[i] - target[i]
            total += Double(d * d)
            grad[i] = 2 * d * scale
        }
        return total
    }

    public func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        ReferenceUse.note(.binaryCrossEntropy, .binaryCrossEntropyLoss)
        var total = 0.0
        for i in 0..<count {
            let zi = z[i]
            total += Double(max(zi, 0) - zi * target[i] + log1pf(expf(-abs(zi))))
            grad[i] = (referenceSigmoid(zi) - target[i]) * scale
        }
        return total
    }

    public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        ReferenceUse.note(.argmaxRows)
        for r in 0..<rows {
            let row = x + r * cols
            // NaN counts as the largest value; the first one wins (numpy, torch.argmax).
            var best = 0
            for c in 1..<max(cols, 1) where !row[best].isNaN && (row[c] > row[best] || row[c].isNaN) { best = c }
            out[r] = Int32(best)
        }
    }

    public func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        ReferenceUse.note(.fill)
        for i in 0..<count { x[i] = value }
    }

    public func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        ReferenceUse.note(.copy)
        for i in 0..<count { dst[i] = src[i] }
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        ReferenceUse.note(.scale)
        for i in 0..<count { x[i] *= s }
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        ReferenceUse.note(.sumOfSquares)
        var total = 0.0
        for i in 0..<count { total += Double(x[i]) * Double(x[i]) }
        return total
    }

    public func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool
    ) {
        ReferenceUse.note(.sgdUpdate)
        for i in 0..<count {
            var g = grad[i] + weightDecay * param[i]
            if momentum != 0, let velocity {
                velocity[i] = momentum * velocity[i] + g
                g = nesterov ? g + momentum * velocity[i] : velocity[i]
            }
            param[i] -= learningRate * g
        }
    }

    public func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int
    ) {
        ReferenceUse.note(.adamUpdate)
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        for i in 0..<count {
            var g = grad[i]
            if decoupled {
                param[i] -= learningRate * weightDecay * param[i]
            } else {
                g += weightDecay * param[i]
            }
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            let mHat = m[i] / correction1
            let vHat = v[i] / correction2
            param[i] -= learningRate * mHat / (sqrtf(vHat) + epsilon)
        }
    }
}

/// σ(x) = 1 / (1 + e^−x), written so neither branch overflows.
@inline(__always)
func referenceSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + expf(-x)) }
    let e = expf(x)
    return e / (1 + e)
}

/// log Σ e^z over `count` values, with the maximum subtracted.
func referenceLogSumExp(_ z: UnsafePointer<Float>, _ count: Int) -> Float {
    var maxValue = -Float.infinity
    for c in 0..<count { maxValue = max(maxValue, z[c]) }
    if maxValue == -Float.infinity { return referenceRowHasNaN(z, count) ? .nan : -Float.infinity }
    var sum: Float = 0
    for c in 0..<count { sum += expf(z[c] - maxValue) }
    return maxValue + logf(sum)
}

/// Whether any of `count` values is NaN (which `max` skips).
func referenceRowHasNaN(_ x: UnsafePointer<Float>, _ count: Int) -> Bool {
    for i in 0..<count where x[i].isNaN { return true }
    return false
}
