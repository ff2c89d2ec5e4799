/// A trained network and everything needed to use it or to continue training it, saved as one
/// safetensors file.
///
/// Tensors are named as ``Sequential/namedParameters`` and ``Sequential/namedBuffers``:
/// `layers.N.weight`, `layers.N.bias`, `layers.N.running_mean`, with N counted as
/// `nn.Sequential` numbers its children, and `layers.N.M.weight` for layer M of a nested
/// Sequential at index N (architecture `sequential:[...]`), as `nn.Sequential`s nest. Conv2d weights are (out, in, kh, kw) as in PyTorch.
/// Dense weights are stored in PyTorch's `nn.Linear` layout, (outputs, inputs) — the transpose
/// of ``Dense``'s (inputs, outputs) — and biases as 1-D `[outputs]`, so in PyTorch
/// `model.load_state_dict(safetensors.torch.load_file(path), strict=False)` loads the weights of
/// the equivalent `nn.Sequential` of `nn.Linear` and activation modules directly.
///
/// A full checkpoint (see ``optimizer`` and ``trainingState``) adds the optimizer's state as
/// `optimizer.<parameter>.<slot>` tensors (e.g. `optimizer.layers.0.weight.exp_avg`, in the same
/// layout as the parameter) and the run's progress in the metadata, so training can resume
/// exactly where it stopped. Everything else is a string in `__metadata__`:
///
/// | key | value |
/// |---|---|
/// | `format` | `backprop-1` |
/// | `architecture` | ``Architecture``, e.g. `dense:64:32,relu,dense:32:10` |
/// | `loss` | `cross-entropy`, `mse` or `binary-cross-entropy` (`:sum` for sum reduction) |
/// | `normalization` | JSON `{"kind", "offset", "divisor"}` (optional) |
/// | `settings` | JSON of the training settings, opaque to the library (optional) |
/// | `classes` | the class count, for classifiers (optional) |
/// | `image_shape` | `HxW`, e.g. `8x8` (optional) |
/// | `input_shape` | the shape of one input sample, e.g. `1x28x28` (optional) |
/// | `optimizer` | JSON: kind, hyperparameters, step count (full checkpoints) |
/// | `training_state` | JSON of ``TrainingState``, the generator as four hex words (full checkpoints) |
public struct ModelCheckpoint {
    /// The value of the `format` metadata key.
    public static let formatName = "backprop-1"

    /// The network, with its trained weights.
    public let model: Sequential
    /// The loss it was trained with; it decides how ``Sequential/predict(_:loss:backend:)``
    /// turns outputs into probabilities.
    public var loss: Loss
    /// The feature normalization fitted on the training data, applied to every input.
    public var normalizer: Normalizer?
    /// The number of classes, for classifiers.
    public var classCount: Int?
    /// The (height, width) of image inputs, for reports.
    public var imageShape: (height: Int, width: Int)?
    /// The shape of one input sample (e.g. `[1, 28, 28]`), so flat rows can be fed to a CNN.
    public var inputShape: [Int]?
    /// The training settings as a JSON string; stored and returned unchanged.
    public var settings: String?
    /// The optimizer with its state, for resuming (full checkpoints only).
    public var optimizer: (any Optimizer)?
    /// Where the run stands, for resuming (full checkpoints only).
    public var trainingState: TrainingState?

    /// A checkpoint of `model` with the metadata needed to use it; only `model` and `loss` are required.
    public init(model: Sequential, loss: Loss, normalizer: Normalizer? = nil, classCount: Int? = nil,
                imageShape: (height: Int, width: Int)? = nil, inputShape: [Int]? = nil, settings: String? = nil,
                optimizer: (any Optimizer)? = nil, trainingState: TrainingState? = nil) {
        self.model = model
        self.loss = loss
        self.normalizer = normalizer
        self.classCount = classCount
        self.imageShape = imageShape
        self.inputShape = inputShape
        self.settings = settings
        self.optimizer = optimizer
        self.trainingState = trainingState
    }

    /// Writes the checkpoint atomically: readers see the old file or the complete new one.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for a layer or optimizer that cannot be
    ///   saved, ``BackpropError/io(path:message:)`` when the file cannot be written.
    public func save(to path: String) throws {
        let layouts = Self.storageLayouts(of: model)
        var tensors = [(name: String, tensor: Tensor)]()
        var shapes = [String: [Int]]()
        func add(_ name: String, _ tensor: Tensor, layout: StorageLayout) {
            let (stored, shape) = layout.store(tensor)
            tensors.append((name, stored))
            shapes[name] = shape
        }
        for (name, parameter) in model.namedParameters {
            add(name, parameter.value, layout: layouts[name] ?? .asIs)
        }
        for (name, buffer) in model.namedBuffers {
            add(name, buffer.value, layout: .asIs)
        }
        var metadata = [
            "format": Self.formatName,
            "architecture": try Architecture.describe(model),
            "loss": loss.kind.rawValue + (loss.reduction == .sum ? ":sum" : ""),
        ]
        if let normalizer { metadata["normalization"] = try encodeMetadataJSON(NormalizerRecord(normalizer), key: "normalization") }
        if let settings { metadata["settings"] = settings }
        if let classCount { metadata["classes"] = String(classCount) }
        if let imageShape { metadata["image_shape"] = "\(imageShape.height)x\(imageShape.width)" }
        if let inputShape { metadata["input_shape"] = inputShape.map(String.init).joined(separator: "x") }
        if let optimizer {
            metadata["optimizer"] = try encodeMetadataJSON(try OptimizerRecord(optimizer), key: "optimizer")
            for (name, tensor) in optimizer.state {
                add("optimizer." + name, tensor, layout: layouts[Self.parameterName(ofSlot: name)] ?? .asIs)
            }
        }
        if let trainingState {
            metadata["training_state"] = try encodeMetadataJSON(TrainingStateRecord(trainingState), key: "training_state")
        }
        try SafeTensors.write(tensors: tensors, shapes: shapes, metadata: metadata, to: path)
    }

    /// Reads a checkpoint written by ``save(to:)`` and rebuilds the network from it alone.
    /// - Throws: ``BackpropError/io(path:message:)`` when the file cannot be read, and
    ///   ``BackpropError/malformedFile(path:location:message:)`` naming the file for missing or
    ///   unparseable metadata, a missing tensor, a tensor of the wrong shape, or an unexpected one.
    public static func load(from path: String) throws -> ModelCheckpoint {
        let (tensors, metadata) = try SafeTensors.read(path: path)
        func fail(_ location: String, _ message: String) -> BackpropError {
            .malformedFile(path: path, location: location, message: message)
        }
        guard let format = metadata["format"] else {
            throw fail("", "not a backprop checkpoint: no 'format' in __metadata__ (expected \(formatName))")
        }
        guard format == formatName else {
            throw fail("metadata 'format'", "format is '\(format)', but this version reads \(formatName)")
        }
        guard let fullArchitecture = metadata["architecture"] else { throw fail("", "no 'architecture' in __metadata__") }
        // Quoted in messages: cut, so a forged megabyte-long string cannot flood the error line.
        let architecture = printable(fullArchitecture, limit: 120)
        try checkLayerTensors(of: fullArchitecture, in: tensors, path: path)
        let model: Sequential
        do {
            model = try Architecture.build(fullArchitecture)
        } catch let error as BackpropError {
            throw fail("metadata 'architecture'", Self.message(of: error))
        }
        let loss = try parseLoss(metadata["loss"], path: path)

        var unused = Set(tensors.keys)
        let layouts = storageLayouts(of: model)
        // Copies tensor `name` into `target` (native layout), checking presence and shape.
        func restore(_ name: String, into target: Tensor, layout: StorageLayout) throws {
            guard let (shape, stored) = tensors[name] else {
                throw fail("", "tensor '\(name)' is missing (the architecture \(architecture) needs it)")
            }
            let expected = layout.storedShape(of: target)
            guard shape == expected else {
                throw fail("tensor '\(name)'", "shape \(shape) does not match \(expected) expected by the architecture")
            }
            if let bad = (0..<stored.count).first(where: { !stored.data[$0].isFinite }) {
                throw fail("tensor '\(name)'", "value \(bad) is \(stored.data[bad]); a checkpoint holds finite numbers "
                    + "only (a diverged run is never saved)")
            }
            layout.load(stored, into: target)
            unused.remove(name)
        }
        for (name, parameter) in model.namedParameters {
            try restore(name, into: parameter.value, layout: layouts[name] ?? .asIs)
        }
        for (name, buffer) in model.namedBuffers {
            try restore(name, into: buffer.value, layout: .asIs)
        }

        var checkpoint = ModelCheckpoint(model: model, loss: loss)
        if let record = try decodeMetadataJSON(NormalizerRecord.self, key: "normalization", metadata: metadata, path: path) {
            do {
                checkpoint.normalizer = try record.normalizer()
            } catch let error as BackpropError {
                throw fail("metadata 'normalization'", Self.message(of: error))
            }
            if let width = Architecture.inputWidth(of: model), width != checkpoint.normalizer!.featureCount {
                throw fail("metadata 'normalization'",
                           "normalizer has \(checkpoint.normalizer!.featureCount) features but the network takes \(width)")
            }
        }
        checkpoint.settings = metadata["settings"]
        if let classes = metadata["classes"] {
            guard let count = Int(classes), count >= 1 else {
                throw fail("metadata 'classes'", "'\(classes)' is not a positive class count")
            }
            checkpoint.classCount = count
        }
        if let shape = metadata["image_shape"] {
            let parts = shape.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0 else {
                throw fail("metadata 'image_shape'", "'\(shape)' is not <height>x<width>")
            }
            checkpoint.imageShape = (parts[0], parts[1])
        }
        if let shape = metadata["input_shape"] {
            let parts = shape.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }), let count = Tensor.checkedCount(parts.map { $0! }) else {
                throw fail("metadata 'input_shape'", "'\(shape)' is not a shape such as 1x28x28")
            }
            do {
                _ = try model.outputShape(forInputShape: parts.map { $0! })
            } catch let error as BackpropError {
                throw fail("metadata 'input_shape'", "\(shape) (\(count) values) does not fit the architecture: \(Self.message(of: error))")
            }
            checkpoint.inputShape = parts.map { $0! }
        }
        if let record = try decodeMetadataJSON(OptimizerRecord.self, key: "optimizer", metadata: metadata, path: path) {
            do {
                let optimizer = try record.makeOptimizer()
                var state = [String: Tensor]()
                for name in tensors.keys where name.hasPrefix("optimizer.") {
                    let slot = String(name.dropFirst("optimizer.".count))
                    let owner = parameterName(ofSlot: slot)
                    guard let parameter = model.namedParameters.first(where: { $0.name == owner })?.parameter else {
                        throw fail("tensor '\(name)'", "optimizer state for '\(owner)', which the architecture does not have")
                    }
                    let target = Tensor(shape: parameter.value.shape)
                    try restore(name, into: target, layout: layouts[owner] ?? .asIs)
                    state[slot] = target
                }
                try checkStatePresent(state, for: record, model: model)
                try optimizer.restore(state, stepCount: record.step)
                checkpoint.optimizer = optimizer
            } catch let error as BackpropError {
                if case .malformedFile = error { throw error }
                throw fail("metadata 'optimizer'", Self.message(of: error))
            }
        }
        if let record = try decodeMetadataJSON(TrainingStateRecord.self, key: "training_state", metadata: metadata, path: path) {
            do {
                checkpoint.trainingState = try record.trainingState()
            } catch let error as BackpropError {
                throw fail("metadata 'training_state'", Self.message(of: error))
            }
        }
        if let extra = unused.sorted().first {
            throw fail("tensor '\(extra)'", "unexpected tensor: the architecture \(architecture) has no such parameter"
                + (unused.count > 1 ? " (and \(unused.count - 1) more)" : ""))
        }
        return checkpoint
    }

    /// Checks that every dense, conv2d and batch-norm layer of `architecture` has its tensors
    /// with the shapes its text implies in `tensors` before the network is built, so a forged size
    /// such as `dense:64:4000000000` or `conv2d:1:16000000:5` is an error about the file rather
    /// than an allocation the file cannot fill. Layers that do not parse are left to ``Architecture/build(_:seed:inputShape:)`` to report.
    private static func checkLayerTensors(of architecture: String, in tensors: SafeTensors.Tensors,
                                          path: String, prefix: String = "layers.") throws {
        guard let parts = try? Architecture.splitLayers(architecture) else { return }
        for (index, part) in parts.enumerated() {
            if part.hasPrefix("sequential:["), part.hasSuffix("]") {
                let inner = String(part.dropFirst("sequential:[".count).dropLast())
                try checkLayerTensors(of: inner, in: tensors, path: path, prefix: prefix + "\(index).")
                continue
            }
            for (name, expected) in expectedTensorShapes(ofLayer: part, prefix: prefix + "\(index).") {
                guard let (shape, _) = tensors[name] else {
                    throw BackpropError.malformedFile(
                        path: path, location: "", message: "tensor '\(name)' is missing (the architecture \(printable(architecture, limit: 120)) needs it)")
                }
                guard shape == expected else {
                    throw BackpropError.malformedFile(
                        path: path, location: "tensor '\(name)'",
                        message: "shape \(shape) does not match \(expected) expected by the architecture")
                }
            }
        }
    }

    /// An optimizer that has taken steps holds its slots for every parameter (Adam's two
    /// moments, SGD's momentum buffer when momentum is on): resuming without them would
    /// silently restart the moments from zero.
    private static func checkStatePresent(_ state: [String: Tensor], for record: OptimizerRecord,
                                          model: Sequential) throws {
        guard record.step > 0 else { return }
        let slots = record.kind == "sgd" ? ((record.momentum ?? 0) != 0 ? ["momentum_buffer"] : []) : ["exp_avg", "exp_avg_sq"]
        for (name, _) in model.namedParameters {
            for slot in slots where state["\(name).\(slot)"] == nil {
                throw BackpropError.invalidArgument(
                    "optimizer state 'optimizer.\(name).\(slot)' is missing after \(record.step) steps of \(record.kind)")
            }
        }
    }

    /// The tensors a layer's text implies, for the built-in kinds whose sizes come from the text
    /// (dense, conv2d, batch norm); empty for the others or for text that does not parse.
    // dense:I:O -> weight [O, I], bias [O]; conv2d:I:O:K -> weight [O, I, K, K], bias [O];
    // batchnorm*:C -> weight, bias, running_mean, running_var [C]
    private static func expectedTensorShapes(ofLayer part: String, prefix: String) -> [(String, [Int])] {
        let colon = part.firstIndex(of: ":") ?? part.endIndex
        let kind = String(part[..<colon])
        let configuration = colon < part.endIndex ? String(part[part.index(after: colon)...]) : ""
        let fields = configuration.split(separator: ":", omittingEmptySubsequences: false)
        // The leading positive sizes, without the size cap `build` applies, so a forged size is
        // reported as the tensor that does not match it.
        func sizes(_ count: Int) -> [Int]? {
            let values = fields.prefix(count).compactMap { Int($0) }.filter { $0 > 0 }
            return fields.count >= count && values.count == count ? values : nil
        }
        switch kind {
        case "dense":
            guard fields.count == 2, let sizes = sizes(2) else { return [] }
            return [(prefix + "weight", [sizes[1], sizes[0]]), (prefix + "bias", [sizes[1]])]
        case "conv2d":
            guard let sizes = sizes(3) else { return [] }
            let weight = (prefix + "weight", [sizes[1], sizes[0], sizes[2], sizes[2]])
            return fields.contains("bias=false") ? [weight] : [weight, (prefix + "bias", [sizes[1]])]
        case "batchnorm1d", "batchnorm2d":
            guard fields.count == 1, let sizes = sizes(1) else { return [] }
            return ["weight", "bias", "running_mean", "running_var"].map { (prefix + $0, [sizes[0]]) }
        default:
            return []
        }
    }

    /// The parameter an optimizer slot belongs to: `layers.0.weight.exp_avg` -> `layers.0.weight`.
    static func parameterName(ofSlot slot: String) -> String {
        guard let dot = slot.lastIndex(of: ".") else { return slot }
        return String(slot[..<dot])
    }

    /// How each named parameter is laid out in the file: every dense layer's, nested ones included
    /// (named as ``Sequential/namedParameters`` names them).
    static func storageLayouts(of model: Sequential) -> [String: StorageLayout] {
        var layouts = [String: StorageLayout]()
        func visit(_ sequential: Sequential, prefix: String) {
            for (index, layer) in sequential.layers.enumerated() {
                let name = prefix + "\(index)."
                if let inner = layer as? Sequential {
                    visit(inner, prefix: name)
                } else if layer is Dense {
                    layouts[name + "weight"] = .transposed
                    layouts[name + "bias"] = .vector
                }
            }
        }
        visit(model, prefix: "layers.")
        return layouts
    }

    private static func parseLoss(_ text: String?, path: String) throws -> Loss {
        guard let text else {
            throw BackpropError.malformedFile(path: path, location: "", message: "no 'loss' in __metadata__")
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let kind = Loss.Kind(rawValue: parts.first ?? ""),
              parts.count == 1 || parts[1] == "sum" || parts[1] == "mean" else {
            throw BackpropError.malformedFile(
                path: path, location: "metadata 'loss'",
                message: "unknown loss '\(text)' (known: \(Loss.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return Loss(kind, reduction: parts.count == 2 && parts[1] == "sum" ? .sum : .mean)
    }

    /// The text of an error without its category prefix, to nest inside a file error.
    private static func message(of error: BackpropError) -> String {
        switch error {
        case .invalidArgument(let message), .shapeMismatch(let message): message
        default: error.description
        }
    }
}

/// How a tensor of ours maps to the tensor stored in the file.
enum StorageLayout {
    /// Stored with its own shape.
    case asIs
    /// A (rows, cols) tensor stored as its (cols, rows) transpose: dense weights, (in, out) -> (out, in).
    case transposed
    /// A (1, n) row stored as a 1-D `[n]` vector: biases.
    case vector

    /// The shape the file records for `tensor`.
    func storedShape(of tensor: Tensor) -> [Int] {
        switch self {
        case .asIs: tensor.shape
        case .transposed: [tensor.cols, tensor.rows]
        case .vector: [tensor.count]
        }
    }

    /// The tensor to write and its recorded shape.
    func store(_ tensor: Tensor) -> (Tensor, [Int]) {
        switch self {
        case .asIs, .vector: (tensor, storedShape(of: tensor))
        case .transposed: (transpose(tensor), storedShape(of: tensor))
        }
    }

    /// Copies `stored` (as read, with a matching recorded shape) into `target`.
    func load(_ stored: Tensor, into target: Tensor) {
        switch self {
        case .asIs, .vector: target.data.update(from: stored.data, count: target.count)
        case .transposed: transpose(stored, into: target)
        }
    }

    // a: (r, c) -> (c, r)
    private func transpose(_ a: Tensor) -> Tensor {
        let t = Tensor(rows: a.cols, cols: a.rows)
        transpose(a, into: t)
        return t
    }

    // a: (r, c), out: (c, r)
    private func transpose(_ a: Tensor, into out: Tensor) {
        for r in 0..<a.rows {
            for c in 0..<a.cols { out.data[c * a.rows + r] = a.data[r * a.cols + c] }
        }
    }
}
