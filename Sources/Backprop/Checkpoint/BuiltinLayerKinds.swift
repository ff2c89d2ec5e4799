/// The layer kinds of the library, in the forms `backprop train --arch` documents:
/// `dense:IN:OUT`, `relu`, `sigmoid`, `tanh`, `softmax`, `conv2d:IN:OUT:K[:stride=S][:pad=P][:bias=false]`,
/// `maxpool2d:K[:stride=S]`, `avgpool2d:K[:stride=S]`, `flatten`, `dropout:P`, `batchnorm1d:N`,
/// `batchnorm2d:C`, `globalavgpool2d`, and `sequential:[...]` for a nested ``Sequential``.
let builtinLayerKinds: [LayerKind] = [
    LayerKind(name: "dense", type: Dense.self, configuration: { "\($0.inputs):\($0.outputs)" }) { text in
        let (sizes, _) = try parseLayerFields(text, kind: "dense", form: "dense:<inputs>:<outputs>", positional: 2, options: [])
        return Dense(sizes[0], sizes[1])
    },
    LayerKind(name: "relu", type: ReLU.self, configuration: { _ in "" }) { try noConfiguration($0, "relu", ReLU()) },
    LayerKind(name: "sigmoid", type: Sigmoid.self, configuration: { _ in "" }) { try noConfiguration($0, "sigmoid", Sigmoid()) },
    LayerKind(name: "tanh", type: Tanh.self, configuration: { _ in "" }) { try noConfiguration($0, "tanh", Tanh()) },
    LayerKind(name: "softmax", type: Softmax.self, configuration: { _ in "" }) { try noConfiguration($0, "softmax", Softmax()) },
    LayerKind(name: "flatten", type: Flatten.self, configuration: { _ in "" }) { try noConfiguration($0, "flatten", Flatten()) },
    LayerKind(name: "globalavgpool2d", type: GlobalAvgPool2d.self, configuration: { _ in "" }) {
        try noConfiguration($0, "globalavgpool2d", GlobalAvgPool2d())
    },
    LayerKind(name: "conv2d", type: Conv2d.self, configuration: { conv in
        "\(conv.inChannels):\(conv.outChannels):\(conv.kernelSize)"
            + (conv.stride != 1 ? ":stride=\(conv.stride)" : "") + (conv.padding != 0 ? ":pad=\(conv.padding)" : "")
            + (conv.bias == nil ? ":bias=false" : "")
    }) { text in
        let (sizes, options) = try parseLayerFields(
            text, kind: "conv2d", form: "conv2d:<in>:<out>:<kernel>[:stride=S][:pad=P]", positional: 3,
            options: ["stride", "pad", "bias"])
        return Conv2d(sizes[0], sizes[1], kernelSize: sizes[2], stride: options["stride"] ?? 1,
                      padding: options["pad"] ?? 0, bias: (options["bias"] ?? 1) != 0)
    },
    LayerKind(name: "maxpool2d", type: MaxPool2d.self, configuration: { pool in
        "\(pool.kernelSize)" + (pool.stride != pool.kernelSize ? ":stride=\(pool.stride)" : "")
    }) { text in
        let (sizes, options) = try parseLayerFields(text, kind: "maxpool2d", form: "maxpool2d:<kernel>[:stride=S]",
                                                    positional: 1, options: ["stride"])
        return MaxPool2d(sizes[0], stride: options["stride"])
    },
    LayerKind(name: "avgpool2d", type: AvgPool2d.self, configuration: { pool in
        "\(pool.kernelSize)" + (pool.stride != pool.kernelSize ? ":stride=\(pool.stride)" : "")
    }) { text in
        let (sizes, options) = try parseLayerFields(text, kind: "avgpool2d", form: "avgpool2d:<kernel>[:stride=S]",
                                                    positional: 1, options: ["stride"])
        return AvgPool2d(sizes[0], stride: options["stride"])
    },
    LayerKind(name: "dropout", type: Dropout.self, configuration: { "\($0.probability)" }) { text in
        guard let p = Float(text), p >= 0, p < 1 else {
            throw BackpropError.invalidArgument("'dropout:\(text)' must be dropout:<p> with 0 <= p < 1")
        }
        return Dropout(p)
    },
    LayerKind(name: "batchnorm1d", type: BatchNorm1d.self, configuration: { "\($0.features)" }) { text in
        let (sizes, _) = try parseLayerFields(text, kind: "batchnorm1d", form: "batchnorm1d:<features>", positional: 1, options: [])
        return BatchNorm1d(sizes[0])
    },
    LayerKind(name: "batchnorm2d", type: BatchNorm2d.self, configuration: { "\($0.features)" }) { text in
        let (sizes, _) = try parseLayerFields(text, kind: "batchnorm2d", form: "batchnorm2d:<channels>", positional: 1, options: [])
        return BatchNorm2d(sizes[0])
    },
    // A nested network: its own architecture text between brackets (commas inside are its
    // layers'). ``Architecture/describe(_:)`` writes it (naming an inner layer that cannot be
    // saved); this configuration is only for `LayerKind.text(of:)` on a lone Sequential.
    LayerKind(name: "sequential", type: Sequential.self, configuration: { inner in
        "[" + ((try? Architecture.describe(inner)) ?? "") + "]"
    }) { text in
        guard text.hasPrefix("["), text.hasSuffix("]"), text.count >= 2 else {
            throw BackpropError.invalidArgument("'sequential:\(printable(text, limit: 120))' must be sequential:[<layer>,<layer>,...]")
        }
        return try Architecture.build(String(text.dropFirst().dropLast()))
    },
]

/// The largest size any field may take (guards allocations sized by text read from files).
let maximumLayerSize = 1 << 24

private func noConfiguration<L: Layer>(_ text: String, _ kind: String, _ layer: L) throws -> L {
    guard text.isEmpty else { throw BackpropError.invalidArgument("'\(printable("\(kind):\(text)"))' takes no configuration; write '\(kind)'") }
    return layer
}

/// Splits `a:b:c:key=v` into `positional` positive integers and `key=value` options (values
/// positive integers, except `bias` which is `true`/`false`, given as 1/0).
func parseLayerFields(_ text: String, kind: String, form: String, positional: Int,
                      options allowed: [String]) throws -> (sizes: [Int], options: [String: Int]) {
    let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let bad = BackpropError.invalidArgument("'\(printable("\(kind):\(text)"))' must be \(form) with positive sizes")
    guard fields.count >= positional else { throw bad }
    var sizes = [Int]()
    for field in fields.prefix(positional) {
        guard let value = Int(field), value > 0, value <= maximumLayerSize else { throw bad }
        sizes.append(value)
    }
    var options = [String: Int]()
    for field in fields.dropFirst(positional) {
        let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
        guard pair.count == 2, allowed.contains(pair[0]), options[pair[0]] == nil else {
            throw BackpropError.invalidArgument(
                "'\(printable("\(kind):\(text)"))': unknown or repeated option '\(printable(String(field)))' (\(form))")
        }
        if pair[0] == "bias" {
            guard pair[1] == "true" || pair[1] == "false" else { throw bad }
            options["bias"] = pair[1] == "true" ? 1 : 0
            continue
        }
        guard let value = Int(pair[1]), value >= (pair[0] == "pad" ? 0 : 1), value <= maximumLayerSize else { throw bad }
        options[pair[0]] = value
    }
    return (sizes, options)
}
