/// Builds an array of layers with Swift's result-builder syntax.
@resultBuilder
public enum LayerBuilder {
    /// One layer.
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    /// An array of layers, spliced in.
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    /// The layers of every statement, in order.
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    /// The layers of every iteration of a `for` loop.
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
    /// The layers of an `if` without `else` (none when the condition is false).
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    /// The layers of the first branch of an `if`/`else`.
    public static func buildEither(first part: [any Layer]) -> [any Layer] { part }
    /// The layers of the second branch of an `if`/`else`.
    public static func buildEither(second part: [any Layer]) -> [any Layer] { part }
}

/// A network: layers applied in order. Parameters are named `layers.N.weight` and
/// `layers.N.bias` (N is the layer's index, activations and pools counted, as `nn.Sequential`
/// numbers its children), the keys used in checkpoints; buffers likewise
/// (`layers.N.running_mean`).
///
/// A `Sequential` is itself a ``Layer``, so networks nest: an inner one's parameters are named
/// as a `torch.nn.Sequential` inside a `torch.nn.Sequential` names them, `layers.N.M.weight`
/// (layer M of the Sequential at index N), and checkpoints save it as `sequential:[...]`.
public final class Sequential: Layer {
    /// The layers, first to last.
    public let layers: [any Layer]
    /// Training or evaluation; set with ``train()``, ``eval()`` or ``setMode(_:)``. ``Trainer``
    /// trains in training mode and evaluates and predicts in evaluation mode.
    public private(set) var mode: LayerMode = .training

    /// A network of `layers`, with every parameter drawn from a generator seeded with `seed`,
    /// so the same seed gives the same initial weights on any machine.
    public init(_ layers: [any Layer], seed: UInt64 = 0) {
        self.layers = layers
        fusablePairs = layers.indices.map { index in
            guard index + 1 < layers.count, let dense = layers[index] as? Dense,
                  let activation = layers[index + 1] as? ActivationLayer,
                  Self.fusable(dense, activation) else { return nil }
            return (dense, activation)
        }
        plainDense = layers.map { layer in type(of: layer) == Dense.self ? layer as? Dense : nil }
        maskablePairs = layers.indices.map { index in
            guard index >= 1, let dense = layers[index] as? Dense,
                  let activation = layers[index - 1] as? ActivationLayer,
                  Self.fusable(dense, activation) else { return nil }
            return (dense, activation)
        }
        initialize(seed: seed)
    }

    /// Only the library's own classes are fused: a subclass may override forward or backward,
    /// and a fused step would silently skip the override.
    private static func fusable(_ dense: Dense, _ activation: ActivationLayer) -> Bool {
        let activationType = ObjectIdentifier(type(of: activation))
        return type(of: dense) == Dense.self
            && [ObjectIdentifier(ReLU.self), ObjectIdentifier(Sigmoid.self), ObjectIdentifier(Tanh.self)].contains(activationType)
    }

    /// fusablePairs[i]: layer i and i + 1 when they are a Dense and an activation layer, else
    /// nil (layers never change, so this is worked out once instead of cast on every step).
    private let fusablePairs: [(dense: Dense, activation: ActivationLayer)?]
    /// maskablePairs[i]: layer i and i - 1 when they are a Dense and an activation layer.
    private let maskablePairs: [(dense: Dense, activation: ActivationLayer)?]
    /// plainDense[i]: layer i when it is a `Dense` (not a subclass), whose backward then takes
    /// its weight and bias gradients in one fused call.
    private let plainDense: [Dense?]
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
        initialize(using: &rng)
    }

    public func initialize(using rng: inout SeededGenerator) {
        for layer in layers { layer.initialize(using: &rng) }
    }

    /// Sets every layer's mode.
    public func setMode(_ mode: LayerMode) {
        self.mode = mode
        for layer in layers { layer.setMode(mode) }
    }

    /// Training mode (PyTorch's `train()`): dropout drops, batch norm uses batch statistics.
    public func train() { setMode(.training) }
    /// Evaluation mode (PyTorch's `eval()`): dropout is the identity, batch norm uses running statistics.
    public func eval() { setMode(.evaluation) }

    /// Every parameter of every layer, with its own parameters.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// Every buffer of every layer.
    public var buffers: [Buffer] { namedBuffers.map(\.buffer) }

    /// Every parameter with its stable name, in layer order: `layers.N.weight`, and
    /// `layers.N.M.weight` inside a nested `Sequential` (as `nn.Sequential` nests).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        indexedParameters.map { (name: "layers." + $0.name, parameter: $0.parameter) }
    }

    /// Every buffer (non-trainable state) with its stable name, in layer order.
    public var namedBuffers: [(name: String, buffer: Buffer)] {
        indexedBuffers.map { (name: "layers." + $0.name, buffer: $0.buffer) }
    }

    /// Parameters named as a PyTorch `nn.Sequential`'s state_dict names them, from the index
    /// down: `N.weight`, and `N.M.weight` for layer M of a Sequential at index N.
    private var indexedParameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { index, layer in
            let named = (layer as? Sequential)?.indexedParameters ?? layer.namedParameters
            return named.map { (name: "\(index).\($0.name)", parameter: $0.parameter) }
        }
    }

    /// Buffers named as ``indexedParameters`` names parameters.
    private var indexedBuffers: [(name: String, buffer: Buffer)] {
        layers.enumerated().flatMap { index, layer in
            let named = (layer as? Sequential)?.indexedBuffers ?? layer.namedBuffers
            return named.map { (name: "\(index).\($0.name)", buffer: $0.buffer) }
        }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int {
        namedParameters.reduce(0) { $0 + $1.parameter.value.count }
    }

    public var summary: String { "Sequential(\(layers.count) layers)" }

    /// One line per layer plus the parameter count.
    public var layerSummary: String {
        layers.enumerated().map { "  \($0): \($1.summary)" }.joined(separator: "\n")
            + "\n  parameters: \(parameterCount)"
    }

    /// Checks that the layers connect and returns the output sample shape for `shape`.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` naming the layer index, the layer, and the
    ///   shape it was given.
    public func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        var current = shape
        for (index, layer) in layers.enumerated() {
            do {
                current = try layer.outputShape(forInputShape: current)
            } catch BackpropError.shapeMismatch(let message) {
                throw BackpropError.shapeMismatch("layer \(index) (\(layer.summary)): \(message)")
            }
        }
        return current
    }

    /// Checks that the layers connect for flat inputs of `width` features and returns the
    /// number of outputs per sample.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` naming the layer that cannot connect.
    @discardableResult
    public func outputWidth(forInputWidth width: Int) throws -> Int {
        try outputShape(forInputShape: [width]).reduce(1, *)
    }

    /// x: [batch] + input shape -> [batch] + output shape. The result is a buffer owned by the
    /// last layer and overwritten by the next call; copy it to keep it.
    ///
    /// On a ``FusedGEMMBackend`` a ``Dense`` layer followed by a ``ReLU``, ``Sigmoid`` or
    /// ``Tanh`` runs as one fused GEMM (bias and activation applied in its write-back), with the
    /// same result. Subclasses of those layers are never fused, so their overrides always run.
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
    /// write-back, with the same result as the two backward calls; and a ``Dense`` layer's
    /// weight and bias gradients come from one call that sums the bias gradient while it packs
    /// the output gradient for the weight gradient's GEMM.
    public func backward(_ outputGrad: Tensor, backend: any Backend) {
        _ = backward(outputGrad, backend: backend, needsInputGradient: false)
    }

    public func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        let fused = fusedInterface(of: backend)
        var grad = dy
        var index = layers.count - 1
        while index >= 0 {
            // The pair's result is the input gradient of the activation at index - 1, which is
            // needed when that is not the first layer or the caller asked for it.
            if let fused, index >= 2 || needsInputGradient, let (dense, activation) = maskablePairs[index],
               dense.sawInput(activation.lastOutput) {
                grad = dense.backward(grad, maskingWith: activation, backend: fused)
                index -= 2
            } else if let fused, let dense = plainDense[index] {
                grad = dense.backward(grad, fused: fused, needsInputGradient: index > 0 || needsInputGradient)
                index -= 1
            } else {
                grad = layers[index].backward(grad, backend: backend, needsInputGradient: index > 0 || needsInputGradient)
                index -= 1
            }
        }
        return grad
    }

    /// Like ``backward(_:backend:)`` but also returns dL/dinput (for gradient checks and traces).
    public func backwardToInput(_ outputGrad: Tensor, backend: any Backend) -> Tensor {
        backward(outputGrad, backend: backend, needsInputGradient: true)
    }

    /// Sets every gradient to zero.
    public func zeroGrad() {
        for (_, parameter) in namedParameters { parameter.zeroGrad() }
    }

    /// The output for `x` as a new tensor (safe to keep).
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when `x` does not fit the first layer.
    public func callAsFunction(_ x: Tensor, backend: any Backend) throws -> Tensor {
        _ = try outputShape(forInputShape: x.rank < 2 ? [x.cols] : x.sampleShape)
        return forward(x, backend: backend).copy()
    }
}
