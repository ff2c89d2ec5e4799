/// Zeroes each input with probability `p` in training mode and scales the kept ones by
/// 1 / (1 − p) (PyTorch's inverted dropout), so evaluation mode is the identity. The mask comes
/// from a seeded generator: the same seed drops the same units.
open class Dropout: Layer {
    /// The probability of dropping a value, in [0, 1).
    public let probability: Float
    private var mode: LayerMode = .training
    private var rng: SeededGenerator
    private var mask: Tensor?       // 0 or 1/(1 − p) per element, same shape as x
    private var output: Tensor?     // y, same shape as x
    private var inputGrad: Tensor?  // dx, same shape as x
    private var lastWasTraining = false

    /// Dropout with drop probability `probability`; `seed` fixes the masks.
    ///
    /// - Precondition: `0 <= probability < 1`.
    public init(_ probability: Float, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.rng = SeededGenerator(seed: seed)
    }

    open var summary: String { "Dropout(\(probability))" }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] { shape }

    open func setMode(_ mode: LayerMode) { self.mode = mode }

    /// Re-seeds the mask generator from the model's generator, so `Sequential(seed:)` fixes the masks.
    open func initialize(using rng: inout SeededGenerator) {
        self.rng = SeededGenerator(seed: rng.next())
    }

    // x -> y, same shape
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let y = Tensor.reuse(output, shape: x.shape)
        output = y
        lastWasTraining = mode == .training && probability > 0
        guard lastWasTraining else {
            backend.copy(x.data, to: y.data, count: x.count)
            return y
        }
        let m = Tensor.reuse(mask, shape: x.shape)
        mask = m
        let keep = 1 / (1 - probability), threshold = Double(probability)
        for i in 0..<m.count { m.data[i] = rng.nextUnit() < threshold ? 0 : keep }
        backend.multiply(x.data, m.data, into: y.data, count: x.count)
        return y
    }

    // dy -> dx = dy · mask (training) or dy (evaluation)
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let y = output else { preconditionFailure("Dropout: backward before forward") }
        let dx = Tensor.reuse(inputGrad, shape: y.shape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        if lastWasTraining, let m = mask {
            backend.multiply(dy.data, m.data, into: dx.data, count: dx.count)
        } else {
            backend.copy(dy.data, to: dx.data, count: dx.count)
        }
        return dx
    }
}
