/// Updates parameters from their gradients. State (momentum, Adam moments) is kept per
/// parameter name and can be saved in a checkpoint with ``state`` and restored with ``restore(_:stepCount:)``.
public protocol Optimizer: AnyObject {
    /// The step size η in w ← w − η·∂L/∂w.
    var learningRate: Float { get set }
    /// Number of updates applied so far.
    var stepCount: Int { get }
    /// One update of every parameter from its gradient.
    func step(_ parameters: [(name: String, parameter: Parameter)], backend: any Backend)
    /// The optimizer's tensors by name (`<parameter>.<slot>`) plus `step` in the metadata.
    var state: [(name: String, tensor: Tensor)] { get }
    /// Restores state saved by ``state``, with the step count.
    func restore(_ state: [String: Tensor], stepCount: Int) throws
}

/// Per-parameter state tensors ("slots"), created at a parameter's first update with its shape
/// and named `<parameter name>.<slot>`. Lookups after the first are by object identity, so a
/// steady-state step builds no strings and allocates nothing.
struct OptimizerSlots {
    let slotNames: [String]
    private var byParameter: [ObjectIdentifier: [Tensor]] = [:]
    private var named: [(name: String, tensor: Tensor)] = []
    private var restored: [String: Tensor] = [:]

    init(_ slotNames: [String]) { self.slotNames = slotNames }

    /// The slots of `parameter` (named `name`), in `slotNames` order.
    mutating func slots(for parameter: Parameter, named name: String) -> [Tensor] {
        if let existing = byParameter[ObjectIdentifier(parameter)] { return existing }
        let tensors = slotNames.map { slot -> Tensor in
            let key = "\(name).\(slot)"
            let tensor = restored.removeValue(forKey: key) ?? Tensor(shape: parameter.value.shape)
            named.append((name: key, tensor: tensor))
            return tensor
        }
        byParameter[ObjectIdentifier(parameter)] = tensors
        return tensors
    }

    /// Every slot: those bound to parameters, then restored ones not yet bound (a checkpoint
    /// saved before the next step, e.g. when a resumed run has nothing left to train, keeps them).
    var all: [(name: String, tensor: Tensor)] {
        named + restored.keys.sorted().map { (name: $0, tensor: restored[$0]!) }
    }

    /// Replaces all state with `state`; slots are bound to parameters at the next step.
    mutating func restore(_ state: [String: Tensor]) throws {
        for name in state.keys where !slotNames.contains(where: { name.hasSuffix(".\($0)") }) {
            throw BackpropError.invalidArgument("optimizer state '\(name)' does not belong to this optimizer")
        }
        byParameter = [:]
        named = []
        restored = state.mapValues { $0.copy() }
    }
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// with PyTorch's `torch.optim.SGD` semantics.
public final class SGD: Optimizer {
    public var learningRate: Float
    /// The momentum factor μ (0: plain SGD).
    public let momentum: Float
    /// The L2 weight decay λ added to the gradient.
    public let weightDecay: Float
    /// Whether the momentum is Nesterov's.
    public let nesterov: Bool
    public private(set) var stepCount = 0
    private var slots = OptimizerSlots(["momentum_buffer"])

    /// SGD with the given learning rate and options (PyTorch's defaults: no momentum, no decay).
    ///
    /// - Precondition: learning rate, momentum and weight decay are finite and non-negative.
    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0,
                     "SGD settings must be non-negative")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)], backend: any Backend) {
        stepCount += 1
        for (name, p) in parameters {
            let velocity = momentum != 0 ? slots.slots(for: p, named: name)[0].data : nil
            backend.sgdUpdate(param: p.value.data, grad: p.grad.data, velocity: velocity, count: p.value.count,
                              learningRate: learningRate, momentum: momentum, weightDecay: weightDecay,
                              nesterov: nesterov)
        }
    }

    public var state: [(name: String, tensor: Tensor)] { slots.all }

    public func restore(_ state: [String: Tensor], stepCount: Int) throws {
        try slots.restore(state)
        self.stepCount = stepCount
    }
}

/// Adam (Kingma & Ba) with PyTorch's `torch.optim.Adam` semantics: bias-corrected moments and
/// L2 weight decay added to the gradient. ``AdamW`` decouples the decay instead.
public class Adam: Optimizer {
    public var learningRate: Float
    /// The decay rate of the first-moment (mean) estimate.
    public let beta1: Float
    /// The decay rate of the second-moment (uncentered variance) estimate.
    public let beta2: Float
    /// Added to the denominator for numerical stability.
    public let epsilon: Float
    /// The weight decay λ (through the gradient for Adam, decoupled for AdamW).
    public let weightDecay: Float
    /// True for AdamW: decay applied to the weights directly, not through the gradient.
    public let decoupledWeightDecay: Bool
    public private(set) var stepCount = 0
    private var slots = OptimizerSlots(["exp_avg", "exp_avg_sq"])

    /// Adam with PyTorch's defaults.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = false
    }

    init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupled: Bool) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupled
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)], backend: any Backend) {
        stepCount += 1
        for (name, p) in parameters {
            let moments = slots.slots(for: p, named: name)
            let m = moments[0], v = moments[1]
            backend.adamUpdate(param: p.value.data, grad: p.grad.data, m: m.data, v: v.data, count: p.value.count,
                               learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                               weightDecay: weightDecay, decoupled: decoupledWeightDecay, step: stepCount)
        }
    }

    public var state: [(name: String, tensor: Tensor)] { slots.all }

    public func restore(_ state: [String: Tensor], stepCount: Int) throws {
        try slots.restore(state)
        self.stepCount = stepCount
    }
}

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, w ← w − η·λ·w, as
/// PyTorch's `torch.optim.AdamW` (default decay 0.01).
public final class AdamW: Adam {
    /// AdamW with PyTorch's defaults (weight decay 0.01).
    public override init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, decoupled: true)
    }
}
