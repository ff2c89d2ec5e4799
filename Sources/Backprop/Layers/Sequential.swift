/// Builds an array of layers with Swift's result-builder syntax.
@resultBuilder
public enum LayerBuilder {
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    public static func buildEither(first part: [any Layer]) -> [any Layer] { part }
    public static func buildEither(second part: [any Layer]) -> [any Layer] { part }
}

/// A network: layers applied in order. Parameters are named `layers.N.weight` and
/// `layers.N.bias` (N is the layer's index), the keys used in checkpoints.
public final class Sequential {
    /// The layers, first to last.
    public let layers: [any Layer]

    /// A network of `layers`, with every parameter drawn from a generator seeded with `seed`,
    /// so the same seed gives the same initial weights on any machine.
    public init(_ layers: [any Layer], seed: UInt64 = 0) {
        self.layers = layers
        fusablePairs = layers.indices.map { index in
            guard index + 1 < layers.count, let dense = layers[index] as? Dense,
                  let activation = layers[index + 1] as? ActivationLayer else { return nil }
            return (dense, activation)
        }
        maskablePairs = layers.indices.map { index in
            guard index >= 1, let dense = layers[index] as? Dense,
                  let activation = layers[index - 1] as? ActivationLayer else { return nil }
            return (dense, activation)
        }
        initialize(seed: seed)
    }

    /// fusablePairs[i]: layer i and i + 1 when they are a Dense and an activation layer, else
    /// nil (layers never change, so this is worked out once instead of cast on every step).
    private let fusablePairs: [(dense: Dense, activation: ActivationLayer)?]
    /// maskablePairs[i]: layer i and i - 1 when they are a Dense and an activation layer.
    private let maskablePairs: [(dense: Dense, activation: ActivationLayer)?]
    /// The last backend seen and its fused interface (nil if it has none): a protocol
    /// conformance lookup costs about as much as a tiny network's whole step.
    private weak var lastBackend: AnyObject?
    private var lastFused: (any FusedGEMMBackend)?

    private func fusedInterface(of backend: any Backend) -> (any FusedGEMMBackend)? {
        if backend !== lastBackend {
            lastBackend = backend
            lastFused = backend as? any FusedGEMMBackend
        }
        return lastFused
    }

    /// `Sequential(seed: 1) { Dense(2, 4); Tanh(); Dense(4, 1) }`
    public convenience init(seed: UInt64 = 0, @LayerBuilder _ build: () -> [any Layer]) {
        self.init(build(), seed: seed)
    }

    /// Re-draws every parameter from a generator seeded with `seed`.
    public func initialize(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for layer in layers { layer.initialize(using: &rng) }
    }

    /// Every parameter with its stable name, in layer order.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { index, layer in
            layer.parameters.map { (name: "layers.\(index).\($0.name)", parameter: $0) }
        }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int {
        namedParameters.reduce(0) { $0 + $1.parameter.value.count }
    }

    /// One line per layer plus the parameter count.
    public var summary: String {
        layers.enumerated().map { "  \($0): \($1.summary)" }.joined(separator: "\n")
            + "\n  parameters: \(parameterCount)"
    }

    /// Checks that the layers connect and returns the output width for `width` input features.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` naming the layer that cannot connect.
    @discardableResult
    public func outputWidth(forInputWidth width: Int) throws -> Int {
        var current = width
        for (index, layer) in layers.enumerated() {
            do {
                current = try layer.outputWidth(forInputWidth: current)
            } catch BackpropError.shapeMismatch(let message) {
                throw BackpropError.shapeMismatch("layer \(index): \(message)")
            }
        }
        return current
    }

    /// x: (batch, features) -> (batch, outputs). The result is a buffer owned by the last layer
    /// and overwritten by the next call; copy it to keep it.
    ///
    /// On a ``FusedGEMMBackend`` a ``Dense`` layer followed by an activation layer runs as one
    /// fused GEMM (bias and activation applied in its write-back), with the same result.
    public func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let fused = fusedInterface(of: backend)
        var current = x
        var index = 0
        while index < layers.count {
            if let fused, let (dense, activation) = fusablePairs[index] {
                current = dense.forward(current, fusing: activation, backend: fused)
                index += 2
            } else {
                current = layers[index].forward(current, backend: backend)
                index += 1
            }
        }
        return current
    }

    /// Propagates dL/doutput back through every layer, accumulating parameter gradients.
    /// The first layer's input gradient is skipped: nothing needs it.
    ///
    /// On a ``FusedGEMMBackend`` an activation layer followed by a ``Dense`` layer runs as one
    /// step: the dense input gradient's GEMM applies the activation's derivative in its
    /// write-back, with the same result as the two backward calls.
    public func backward(_ outputGrad: Tensor, backend: any Backend) {
        let fused = fusedInterface(of: backend)
        var grad = outputGrad
        var index = layers.count - 1
        while index >= 0 {
            // The activation at index - 1 needs its input gradient only when index - 1 > 0.
            if let fused, index >= 2, let (dense, activation) = maskablePairs[index],
               dense.sawInput(activation.lastOutput) {
                grad = dense.backward(grad, maskingWith: activation, backend: fused)
                index -= 2
            } else {
                grad = layers[index].backward(grad, backend: backend, needsInputGradient: index > 0)
                index -= 1
            }
        }
    }

    /// Like ``backward(_:backend:)`` but also returns dL/dinput (for gradient checks and traces).
    public func backwardToInput(_ outputGrad: Tensor, backend: any Backend) -> Tensor {
        var grad = outputGrad
        for layer in layers.reversed() {
            grad = layer.backward(grad, backend: backend, needsInputGradient: true)
        }
        return grad
    }

    /// Sets every gradient to zero.
    public func zeroGrad() {
        for (_, parameter) in namedParameters { parameter.zeroGrad() }
    }

    /// The output for `x` as a new tensor (safe to keep).
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when `x` has the wrong width.
    public func callAsFunction(_ x: Tensor, backend: any Backend) throws -> Tensor {
        try outputWidth(forInputWidth: x.cols)
        return forward(x, backend: backend).copy()
    }
}
