/// The text form of a network's layers, stored in checkpoints and taken by `backprop train
/// --arch`: comma-separated layers, each `name` or `name:configuration` of a ``LayerKind``, e.g.
/// `conv2d:1:6:5:pad=2,relu,maxpool2d:2,flatten,dense:1176:10`.
///
/// A ``Sequential`` inside the network is `sequential:[...]` with its own layers between the
/// brackets, e.g. `sequential:[conv2d:1:4:3,relu],flatten,dense:144:10`; its tensors are named
/// as `nn.Sequential` nests (`layers.0.0.weight`).
public enum Architecture {
    /// Named architectures accepted by ``build(_:seed:inputShape:)`` in place of the text.
    public static let presets: [String: String] = [
        // LeNet-5 for 1×28×28 images (padding 2 makes the first layer see 32×32, as LeCun's).
        "lenet": "conv2d:1:6:5:pad=2,relu,maxpool2d:2,conv2d:6:16:5,relu,maxpool2d:2,flatten,"
            + "dense:400:120,relu,dense:120:84,relu,dense:84:10",
    ]

    /// How deep `sequential:[...]` may nest in architecture text (text read from a file must
    /// not be able to recurse without bound).
    public static let maximumNesting = 16

    /// The architecture string of `model`.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` naming the first layer no ``LayerKind``
    ///   describes (so `--save` can fail before training rather than after); a layer inside a
    ///   nested ``Sequential`` is named by its path, e.g. `layer 2.1`.
    public static func describe(_ model: Sequential) throws -> String {
        try describe(model, path: "", depth: 1)
    }

    private static func describe(_ model: Sequential, path: String, depth: Int) throws -> String {
        try model.layers.enumerated().map { index, layer -> String in
            let here = path + String(index)
            if let inner = layer as? Sequential {
                guard depth <= maximumNesting else {
                    throw BackpropError.invalidArgument("layer \(here): Sequential nested deeper than \(maximumNesting) levels cannot be saved")
                }
                return "sequential:[" + (try describe(inner, path: here + ".", depth: depth + 1)) + "]"
            }
            do {
                return try LayerKind.text(of: layer)
            } catch BackpropError.invalidArgument(let message) {
                throw BackpropError.invalidArgument("layer \(here): \(message)")
            }
        }.joined(separator: ",")
    }

    /// A network with the layers `text` (or a preset name such as `lenet`) describes, weights
    /// freshly initialized from `seed`. Dense layers use He initialization before a ReLU and
    /// Xavier otherwise.
    /// - Parameters:
    ///   - text: comma-separated layers, e.g. `conv2d:1:6:5:pad=2,relu,maxpool2d:2,flatten,dense:1176:10`.
    ///   - seed: seeds the weight initialization.
    ///   - inputShape: the shape of one sample (e.g. `[1, 28, 28]`); when given, the
    ///     layers are checked to connect from it. Without it, a network starting with a dense
    ///     layer is checked from that layer's input width.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` naming the layer index and text that
    ///   does not parse, or that does not connect with the shapes on both sides.
    public static func build(_ text: String, seed: UInt64 = 0, inputShape: [Int]? = nil) throws -> Sequential {
        let text = presets[text] ?? text
        guard !text.isEmpty else { throw BackpropError.invalidArgument("the architecture is empty") }
        try checkParameterBudget(text)
        let parts = try splitLayers(text)
        var layers = [any Layer]()
        for (index, part) in parts.enumerated() {
            let colon = part.firstIndex(of: ":")
            let name = String(part[..<(colon ?? part.endIndex)])
            let configuration = colon.map { String(part[part.index(after: $0)...]) } ?? ""
            guard let kind = LayerKind.named(name) else {
                throw BackpropError.invalidArgument(
                    "layer \(index) '\(printable(part))' is not a known layer kind (known: \(LayerKind.all.map(\.name).joined(separator: ", ")))")
            }
            do {
                var layer = try kind.make(configuration)
                if let dense = layer as? Dense, type(of: layer) == Dense.self {
                    let nextIsReLU = index + 1 < parts.count && parts[index + 1] == "relu"
                    layer = Dense(dense.inputs, dense.outputs, initializer: nextIsReLU ? .heUniform : .xavierUniform)
                }
                layers.append(layer)
            } catch BackpropError.invalidArgument(let message) {
                throw BackpropError.invalidArgument("layer \(index): \(message)")
            }
        }
        let start = inputShape ?? inputWidth(ofLayers: layers).map { [$0] }
        if let start {
            var shape = start
            for (index, layer) in layers.enumerated() {
                do {
                    shape = try layer.outputShape(forInputShape: shape)
                } catch BackpropError.shapeMismatch(let message) {
                    throw BackpropError.invalidArgument(
                        "the layers do not connect: layer \(index) '\(printable(parts[index]))' (\(layer.summary)) \(message)")
                }
            }
        }
        return Sequential(layers, seed: seed)
    }

    /// The input width of `model`: that of its first layer when that is dense (or a nested
    /// ``Sequential`` starting with one), or nil.
    public static func inputWidth(of model: Sequential) -> Int? {
        inputWidth(ofLayers: model.layers)
    }

    private static func inputWidth(ofLayers layers: [any Layer]) -> Int? {
        if let inner = layers.first as? Sequential { return inputWidth(ofLayers: inner.layers) }
        return (layers.first as? Dense)?.inputs
    }

    /// Splits architecture text into its layers at the commas outside brackets, so that
    /// `sequential:[dense:2:4,relu],dense:4:1` is two layers.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for unbalanced brackets or nesting
    ///   deeper than ``maximumNesting``.
    static func splitLayers(_ text: String) throws -> [String] {
        var parts: [String] = [], current = "", depth = 0
        for character in text {
            switch character {
            case "[":
                depth += 1
                guard depth <= maximumNesting else {
                    throw BackpropError.invalidArgument("the architecture nests 'sequential:[...]' deeper than \(maximumNesting) levels")
                }
            case "]":
                depth -= 1
                guard depth >= 0 else {
                    throw BackpropError.invalidArgument("the architecture has a ']' without its '[': '\(printable(text, limit: 120))'")
                }
            case "," where depth == 0:
                parts.append(current)
                current = ""
                continue
            default:
                break
            }
            current.append(character)
        }
        guard depth == 0 else {
            throw BackpropError.invalidArgument("the architecture has a '[' without its ']': '\(printable(text, limit: 120))'")
        }
        return parts + [current]
    }
}
