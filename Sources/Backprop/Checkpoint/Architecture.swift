/// The text form of a network's layers stored in checkpoints, e.g.
/// `dense:64:32,relu,dense:32:10`: comma-separated layers, a dense layer as
/// `dense:<inputs>:<outputs>`, activations by name (`relu`, `sigmoid`, `tanh`, `softmax`).
public enum Architecture {
    /// The architecture string of `model`.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for a layer type checkpoints cannot describe.
    public static func describe(_ model: Sequential) throws -> String {
        try model.layers.enumerated().map { index, layer -> String in
            switch layer {
            case let dense as Dense: return "dense:\(dense.inputs):\(dense.outputs)"
            case let activation as ActivationLayer: return activation.kind.description
            case is Softmax: return "softmax"
            default:
                throw BackpropError.invalidArgument(
                    "layer \(index) (\(layer.summary)) cannot be saved: checkpoints hold dense, relu, sigmoid, tanh and softmax layers")
            }
        }.joined(separator: ",")
    }

    /// A network with the layers `text` describes (weights freshly initialized from `seed`).
    /// Dense layers use He initialization before a ReLU and Xavier otherwise.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` naming the layer that does not parse or connect.
    public static func build(_ text: String, seed: UInt64 = 0) throws -> Sequential {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !text.isEmpty else { throw BackpropError.invalidArgument("the architecture is empty") }
        var layers = [any Layer]()
        for (index, part) in parts.enumerated() {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            switch fields[0] {
            case "dense":
                guard fields.count == 3, let inputs = Int(fields[1]), let outputs = Int(fields[2]),
                      inputs > 0, outputs > 0 else {
                    throw BackpropError.invalidArgument(
                        "layer \(index) '\(printable(String(part)))' must be dense:<inputs>:<outputs> with positive widths")
                }
                let nextIsReLU = index + 1 < parts.count && parts[index + 1] == "relu"
                layers.append(Dense(inputs, outputs, initializer: nextIsReLU ? .heUniform : .xavierUniform))
            case "relu" where fields.count == 1: layers.append(ReLU())
            case "sigmoid" where fields.count == 1: layers.append(Sigmoid())
            case "tanh" where fields.count == 1: layers.append(Tanh())
            case "softmax" where fields.count == 1: layers.append(Softmax())
            default:
                throw BackpropError.invalidArgument(
                    "layer \(index) '\(printable(String(part)))' is not dense:<in>:<out>, relu, sigmoid, tanh or softmax")
            }
        }
        let model = Sequential(layers, seed: seed)
        if let first = layers.first(where: { $0 is Dense }) as? Dense {
            do {
                try model.outputWidth(forInputWidth: first.inputs)
            } catch BackpropError.shapeMismatch(let message) {
                throw BackpropError.invalidArgument("the layers do not connect: \(message)")
            }
        }
        return model
    }

    /// The input width of `model`: that of its first dense layer, or nil when it has none.
    public static func inputWidth(of model: Sequential) -> Int? {
        (model.layers.first(where: { $0 is Dense }) as? Dense)?.inputs
    }
}
