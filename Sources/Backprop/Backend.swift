/// The activation functions every backend implements. Raw values match the C kernels.
public enum Activation: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// max(x, 0).
    case relu = 0
    /// 1 / (1 + e^−x).
    case sigmoid = 1
    /// The hyperbolic tangent.
    case tanh = 2

    /// `relu`, `sigmoid` or `tanh`.
    public var description: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        }
    }
}

/// The primitive operations a compute engine provides.
///
/// Everything else (dense layers, losses, optimizers, training) is written once against this
/// protocol and runs unchanged on every backend. Matrices are row-major `Float`, passed as raw
/// pointers with explicit sizes so that every backend reads a ``Tensor``'s storage without a copy.
/// A leading dimension (`lda`, `ldb`, `ldc`) is the distance in floats between two rows.
///
/// The semantics of every requirement are those of ``SwiftBackend``, the reference, and of
/// `CKernels/include/backprop_kernels.h`. Sizes are never negative; a size of zero is a no-op.
/// Implementations must be safe to call from one thread at a time per model (they may use
/// threads internally).
///
/// Non-finite input follows IEEE 754 arithmetic, BLAS and PyTorch, on every backend (tested by
/// hand-written cases in `NonFiniteTests`): NaN propagates through every op unless a requirement
/// says otherwise, ±∞ gives what IEEE arithmetic gives (0·∞ and ∞ − ∞ are NaN), an overflowing
/// Float result is ±∞, subnormals are kept (no flush to zero), and −0 equals +0 (the sign of a
/// zero result is not specified). So a NaN or ∞ anywhere in training reaches the loss, which
/// the trainer reports as divergence.
public protocol Backend: AnyObject, Sendable {
    /// The registry name: `swift`, `c`, `openblas`.
    var name: String { get }
    /// One line for humans: SIMD level, threads, library version.
    var detail: String { get }

    /// C = alpha · op(A) · op(B) + beta · C, with op(X) = X or Xᵀ.
    ///
    /// - Parameters:
    ///   - transA: when true, A is stored (k, m) and op(A) = Aᵀ; else A is stored (m, k).
    ///   - transB: when true, B is stored (n, k) and op(B) = Bᵀ; else B is stored (k, n).
    ///   - m: rows of op(A) and of C.
    ///   - n: columns of op(B) and of C.
    ///   - k: columns of op(A), rows of op(B).
    ///   - alpha: scales op(A)·op(B); when 0 (or k = 0), A and B are not read (BLAS), so C = beta · C
    ///     even when A or B hold NaN or ∞.
    ///   - a: A's storage.
    ///   - lda: A's leading dimension.
    ///   - b: B's storage.
    ///   - ldb: B's leading dimension.
    ///   - beta: when 0, C is not read, so NaN or garbage in C does not propagate.
    ///   - c: C's storage, (m, n), read (unless beta is 0) and written.
    ///   - ldc: C's leading dimension.
    func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)

    /// x: (rows, cols), bias: (cols): x[r, c] += bias[c].
    func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int)

    /// x: (rows, cols) -> out: (cols), out[c] = Σ_r x[r, c]; with `accumulate`, out[c] += Σ_r x[r, c].
    func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool)

    /// y = f(x) elementwise over `count` values; `y` may be `x`. f(NaN) = NaN for every kind
    /// (relu as `torch.relu`); relu(−∞) = 0, sigmoid(±∞) = 1, 0 and tanh(±∞) = ±1.
    func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int)

    /// dx = dy · f'(x), computed from the forward output y (relu: y > 0; sigmoid: y(1 − y);
    /// tanh: 1 − y²). `dx` may be `dy`.
    func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int)

    /// Row-wise softmax with the row maximum subtracted. x, y: (rows, cols); `y` may be `x`.
    /// A row of all −∞ gives a uniform row; a row holding a NaN or +∞ is NaN in every column.
    func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int)

    /// Fused softmax + cross-entropy with class labels in `0..<cols`.
    /// grad[r, c] = (p[r, c] − 1{c = label[r]}) · scale. Returns Σ_r −log p[r, label[r]] (unscaled).
    /// A row with a NaN logit has a NaN gradient row and makes the loss NaN.
    func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float) -> Double

    /// Fused softmax + cross-entropy with probability targets (rows sum to 1).
    /// grad = (p − t) · scale. Returns Σ_r −Σ_c t[r, c] log p[r, c] (unscaled).
    func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float) -> Double

    /// Squared error over `count` values: returns Σ (y − t)²; grad = 2(y − t) · scale. Each
    /// term (y − t)² is a Float (it overflows to ∞ past 3.4e38, as in PyTorch's float32); the
    /// sum is a Double.
    func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float) -> Double

    /// Binary cross-entropy on logits z with targets t ∈ [0, 1]:
    /// returns Σ max(z, 0) − z·t + log(1 + e^−|z|); grad = (σ(z) − t) · scale.
    func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float) -> Double

    /// out[r] = the column of the largest value in row r (the first on ties). NaN counts as
    /// larger than every number, so the first NaN wins (as `numpy.argmax` and `torch.argmax`).
    func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>)

    /// x[i] = value.
    func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int)
    /// dst[i] = src[i] (no overlap).
    func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int)
    /// x[i] *= s, an IEEE multiply (so ∞ · 0 = NaN: scaling by 0 is not a fill).
    func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int)
    /// Σ x[i]², accumulated in Double.
    func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double

    // MARK: Image primitives (NCHW). Defaults: ReferenceSpatialOps.swift.

    /// The whole batch's patches as columns, so one GEMM convolves every sample:
    /// x: (N, C, H, W) -> col: (C·kh·kw, N·outH·outW), where
    /// col[(c·kh + i)·kw + j, n·outH·outW + oy·outW + ox] = x[n, c, oy·s + i − p, ox·s + j − p],
    /// or 0 in the padding.
    func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>)

    /// The adjoint of ``im2col(_:batch:window:col:)``: col: (C·kh·kw, N·outH·outW) -> dx: (N, C, H, W),
    /// dx = Σ of the columns over the positions each input element was copied to (overwrites dx).
    func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>)

    /// x: (planes, H, W) -> y: (planes, outH, outW), the window maximum; `argmax[o]` is the
    /// index in its plane (y·W + x) of the first maximum (NaN wins, as in PyTorch).
    func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>)

    /// dy: (planes, outH, outW) -> dx: (planes, H, W): each dy goes to its window's argmax
    /// (overwrites dx; overlapping windows add).
    func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>)

    /// x: (planes, H, W) -> y: (planes, outH, outW), the window mean over kh·kw elements
    /// (padding counted as zeros, PyTorch's `count_include_pad=True`).
    func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>)

    /// dy: (planes, outH, outW) -> dx: (planes, H, W), dx = Σ over windows of dy / (kh·kw) (overwrites dx).
    func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>)

    /// x: (A, B, inner) -> y: (B, A, inner), y[b, a, :] = x[a, b, :] (no overlap). Moves a
    /// convolution's (out, N, H'·W') GEMM result to NCHW and back.
    func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>)

    /// x: (N, C, S) -> x[n, c, s] += bias[c] (S = H·W, or 1 for flat features).
    func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int)

    /// x: (N, C, S) -> out: (C), out[c] (+)= Σ_{n, s} x[n, c, s].
    func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool)

    /// x: (N, C, S) -> mean, variance: (C), the biased (÷ N·S) variance, computed in Double.
    func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>)

    /// x: (N, C, S) -> xhat = (x − mean[c]) / √(variance[c] + eps), y = gamma[c]·xhat + beta[c].
    /// `xhat` may be nil (evaluation mode keeps nothing for backward).
    func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>)

    /// Batch-statistics backward: with M = N·S, g = dy·gamma,
    /// dx = (g − mean_M(g) − xhat·mean_M(g·xhat)) / √(variance + eps); dgamma (+)= Σ dy·xhat;
    /// dbeta (+)= Σ dy. `dx` may be nil (skipped).
    func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool)

    /// True when this backend's ``conv2dForward(_:batch:window:weight:bias:outChannels:y:)`` and
    /// the two convolution gradients are faster than im2col + GEMM for stride-1 windows;
    /// ``Conv2d`` then uses them. Default (ReferenceConvolution.swift): false.
    var prefersDirectConvolution: Bool { get }

    /// A direct convolution: x: (N, C, H, W), weight: (K, C, kh, kw) (PyTorch's layout),
    /// bias: (K) or nil -> y: (N, K, outH, outW) with K = `outChannels`,
    /// y[n, k, oy, ox] = bias[k] + Σ_{c,i,j} weight[k, c, i, j] · x[n, c, oy·s + i − p, ox·s + j − p]
    /// (terms in the padding are zero). The same result as im2col, a GEMM and a channel bias.
    func conv2dForward(
        _ x: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, y: UnsafeMutablePointer<Float>)

    /// The input gradient of ``conv2dForward(_:batch:window:weight:bias:outChannels:y:)``:
    /// dy: (N, K, outH, outW) -> dx: (N, C, H, W), dx[n, c, iy, ix] = Σ dy[n, k, oy, ox] ·
    /// weight[k, c, i, j] over every (k, oy, ox, i, j) with oy·s + i − p = iy, ox·s + j − p = ix
    /// (overwrites dx).
    func conv2dBackwardData(
        _ dy: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        outChannels: Int, dx: UnsafeMutablePointer<Float>)

    /// The weight gradient: x: (N, C, H, W), dy: (N, K, outH, outW) -> dweight: (K, C, kh, kw),
    /// dweight[k, c, i, j] (+)= Σ_{n, oy, ox} dy[n, k, oy, ox] · x[n, c, oy·s + i − p, ox·s + j − p],
    /// and, when `dbias` is given, the bias gradient dbias[k] (+)= Σ_{n, oy, ox} dy[n, k, oy, ox].
    /// Each is added with its `accumulate` flag set, else overwritten.
    func conv2dBackwardWeight(
        _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, window: Window2d,
        outChannels: Int, into dweight: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias dbias: UnsafeMutablePointer<Float>?, accumulateBias: Bool)

    /// y[i] = a[i] · b[i]; `y` may be `a` or `b`.
    func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int)

    /// SGD with PyTorch's semantics: g = grad + wd·param; with momentum, v = μv + g and
    /// g = nesterov ? g + μv : v; then param −= lr·g. `velocity` is nil when momentum is 0.
    func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool)

    /// Adam (L2 weight decay added to the gradient) or AdamW (`decoupled`: param −= lr·wd·param
    /// first), with PyTorch's bias correction; `step` is 1 for the first update.
    func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int)
}
