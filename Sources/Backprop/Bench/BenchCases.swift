/// One benchmark case: what to measure, and how to build its work for a backend.
public struct BenchCase {
    /// What is measured: gemm, softmax, cross-entropy, train, infer or conv.
    public let kind: BenchKind
    /// The variant shown in the `variant` column (see ``BenchRecord/variant``).
    public let variant: String
    /// The shape shown in the `shape` column (see ``BenchRecord/shape``).
    public let shape: String
    /// Work per call in the unit the figure counts: flops (gemm), bytes (softmax,
    /// cross-entropy) or samples (train, infer).
    public let workPerCall: Double
    /// True when the `swift` reference is too slow for this case unless forced.
    public let tooSlowForReference: Bool
    /// Allocates the case's buffers for `backend` and returns the work of one call, ready to
    /// be timed (the package benchmarks in `Benchmarks/` time it too).
    public let prepare: (any Backend) throws -> () throws -> Void

    /// The figure for one call taking `seconds`: GFLOP/s, GB/s or samples/s.
    public func figure(seconds: Double) -> Double {
        switch kind {
        case .gemm, .softmax, .crossEntropy, .conv: workPerCall / seconds / 1e9
        case .train, .infer: workPerCall / seconds
        }
    }
}

/// The standard cases of `backprop bench`.
public enum BenchCases {
    /// The default square GEMM sizes (4096 only when asked for with `--sizes`).
    public static let defaultSquareSizes = [128, 256, 512, 1024, 2048]
    /// The largest square size the `swift` reference runs unless forced.
    public static let referenceSizeLimit = 1024

    /// The GEMMs of one 784-256-128-10 training step at batch 128: forward (NN), dX (NT) and
    /// dW (TN), as (m, n, k, transA, transB).
    public static let mlpShapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] = [
        (128, 256, 784, false, false), (128, 128, 256, false, false), (128, 10, 128, false, false),
        (128, 784, 256, false, true), (784, 256, 128, true, false), (256, 128, 128, true, false),
    ]

    /// The training benchmarks: network widths and batch sizes.
    public static let trainNetworks: [(widths: [Int], batches: [Int])] = [
        ([784, 256, 128, 10], [32, 128, 512]),
        ([64, 32, 10], [32]),
        ([25, 8, 2], [32]),
    ]

    /// Square GEMMs of the given sizes, then the MLP shapes.
    public static func gemm(squareSizes: [Int]) -> [BenchCase] {
        squareSizes.map { n in
            gemmCase(m: n, n: n, k: n, transA: false, transB: false,
                     tooSlowForReference: n > referenceSizeLimit)
        } + mlpShapes.map { gemmCase(m: $0.m, n: $0.n, k: $0.k, transA: $0.transA, transB: $0.transB) }
    }

    /// Softmax and fused cross-entropy on 4096×1000 (a large classifier) and 128×10 (MNIST).
    public static func softmax() -> [BenchCase] {
        [(4096, 1000), (128, 10)].flatMap { rows, cols in
            [softmaxCase(rows: rows, cols: cols), crossEntropyCase(rows: rows, cols: cols)]
        }
    }

    /// Training steps for every network and batch size.
    public static func train(dataset: SyntheticData = SyntheticData()) -> [BenchCase] {
        trainNetworks.flatMap { network in
            network.batches.map { trainCase(widths: network.widths, batch: $0, data: dataset) }
        } + [lenetTrainCase(batch: 64, data: dataset)]
    }

    /// One SGD step (lr 0.1, cross-entropy) of LeNet-5 (`Architecture.presets["lenet"]`) on
    /// 1×28×28 synthetic images per call; the figure is batch / seconds per step.
    public static func lenetTrainCase(batch: Int, data: SyntheticData) -> BenchCase {
        BenchCase(kind: .train, variant: "lenet", shape: "batch=\(batch)",
                  workPerCall: Double(batch), tooSlowForReference: true) { backend in
            let batches = try data.batches(features: 784, classes: 10, batch: batch).map { try $0.withSampleShape([1, 28, 28]) }
            let model = try Architecture.build("lenet", seed: 1, inputShape: [1, 28, 28])
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1),
                                  backend: backend, seed: 1)
            var next = 0
            return {
                try trainer.trainStep(batches[next])
                next = (next + 1) % batches.count
            }
        }
    }

    /// LeNet-5's training step (``lenetTrainCase(batch:data:)``), then the step split by layer: one case per layer and direction, each timing
    /// that layer's forward (or backward) alone at batch `batch` on 1×28×28 random images, after
    /// one full forward and backward in setup. Layers run one by one, so Dense → ReLU pairs are
    /// not fused here as they are in a training step. Variant `lenet-layer`, shape
    /// `INDEX NAME forward|backward`; the figure is batch / seconds (samples/s).
    public static func lenetLayers(batch: Int = 64) -> [BenchCase] {
        guard let model = try? Architecture.build("lenet", seed: 1, inputShape: [1, 28, 28]) else { return [] }
        return [lenetTrainCase(batch: batch, data: SyntheticData())] + model.layers.indices.flatMap { index in
            [false, true].map { backward in
                lenetLayerCase(index: index, name: layerKindName(model.layers[index]), batch: batch, backward: backward)
            }
        }
    }

    private static func layerKindName(_ layer: any Layer) -> String {
        String(describing: type(of: layer)).lowercased()
    }

    private static func lenetLayerCase(index: Int, name: String, batch: Int, backward: Bool) -> BenchCase {
        BenchCase(kind: .train, variant: "lenet-layer", shape: "\(index) \(name) \(backward ? "backward" : "forward")",
                  workPerCall: Double(batch), tooSlowForReference: true) { backend in
            let model = try Architecture.build("lenet", seed: 1, inputShape: [1, 28, 28])
            let x = Tensor(shape: [batch, 1, 28, 28])
            var rng = SeededGenerator(seed: 7)
            for i in 0..<x.count { x.data[i] = Float(rng.nextUnit()) }
            // Setup: every layer's input and output gradient, as one training step leaves them.
            var inputs: [Tensor] = []
            var current = x
            for layer in model.layers {
                inputs.append(current)
                current = layer.forward(current, backend: backend)
            }
            var outputGrads = [Tensor](repeating: current, count: model.layers.count)
            var grad = Tensor(shape: current.shape, repeating: 0.01)
            for i in model.layers.indices.reversed() {
                outputGrads[i] = grad
                grad = model.layers[i].backward(grad, backend: backend, needsInputGradient: i > 0)
            }
            let layer = model.layers[index], input = inputs[index], dy = outputGrads[index]
            _ = layer.forward(input, backend: backend)
            return {
                if backward {
                    _ = layer.backward(dy, backend: backend, needsInputGradient: index > 0)
                } else {
                    _ = layer.forward(input, backend: backend)
                }
            }
        }
    }

    /// LeNet-5's two convolutions at batch 64, forward and backward.
    public static func conv() -> [BenchCase] {
        [(1, 6, 28, 2), (6, 16, 14, 0)].flatMap { inChannels, outChannels, size, padding in
            [false, true].map { backward in
                convCase(inChannels: inChannels, outChannels: outChannels, kernel: 5, size: size, padding: padding,
                         batch: 64, backward: backward)
            }
        }
    }

    /// One Conv2d forward (or backward, dW and dx, after one forward in setup) per call on
    /// random (batch, in, size, size) input; variant `forward`/`backward`, shape `INxOUTxKxSIZE b=N`.
    public static func convCase(inChannels: Int, outChannels: Int, kernel: Int, size: Int, padding: Int,
                                batch: Int, backward: Bool) -> BenchCase {
        let out = (size + 2 * padding - kernel) + 1
        let flops = 2.0 * Double(batch * outChannels * out * out * inChannels * kernel * kernel) * (backward ? 2 : 1)
        return BenchCase(kind: .conv, variant: backward ? "backward" : "forward",
                         shape: "\(inChannels)x\(outChannels)x\(kernel)x\(size) b=\(batch)",
                         workPerCall: flops, tooSlowForReference: true) { backend in
            let layer = Conv2d(inChannels, outChannels, kernelSize: kernel, padding: padding)
            var rng = SeededGenerator(seed: 3)
            layer.initialize(using: &rng)
            let x = Tensor(shape: [batch, inChannels, size, size])
            for i in 0..<x.count { x.data[i] = Float(rng.nextUnit()) }
            let dy = Tensor(shape: [batch, outChannels, out, out], repeating: 0.01)
            _ = layer.forward(x, backend: backend)
            return {
                if backward {
                    _ = layer.backward(dy, backend: backend, needsInputGradient: true)
                } else {
                    _ = layer.forward(x, backend: backend)
                }
            }
        }
    }

    /// Forward + softmax of 784-256-128-10 at batch 1024 (throughput) and batch 1 (latency:
    /// 1e6 / samples/s is microseconds per call).
    public static func infer() -> [BenchCase] {
        [inferCase(widths: [784, 256, 128, 10], batch: 1024), inferCase(widths: [784, 256, 128, 10], batch: 1)]
    }

    // MARK: - Case builders

    /// op(A): (m, k), op(B): (k, n) -> C: (m, n); A stored (k, m) when transA, B stored (n, k)
    /// when transB.
    public static func gemmCase(m: Int, n: Int, k: Int, transA: Bool, transB: Bool,
                                tooSlowForReference: Bool = false) -> BenchCase {
        let variant = (transA ? "T" : "N") + (transB ? "T" : "N")
        return BenchCase(kind: .gemm, variant: variant, shape: "\(m)x\(n)x\(k)",
                         workPerCall: 2 * Double(m) * Double(n) * Double(k),
                         tooSlowForReference: tooSlowForReference) { backend in
            let a = randomTensor(rows: transA ? k : m, cols: transA ? m : k, seed: 1)
            let b = randomTensor(rows: transB ? n : k, cols: transB ? k : n, seed: 2)
            let c = Tensor(rows: m, cols: n)
            return {
                backend.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                             alpha: 1, a: a.data, lda: a.cols, b: b.data, ldb: b.cols,
                             beta: 0, c: c.data, ldc: n)
            }
        }
    }

    /// x: (rows, cols) -> y: (rows, cols). Counts one read of x and one write of y.
    public static func softmaxCase(rows: Int, cols: Int) -> BenchCase {
        BenchCase(kind: .softmax, variant: "rows", shape: "\(rows)x\(cols)",
                  workPerCall: Double(2 * rows * cols * 4), tooSlowForReference: false) { backend in
            let x = randomTensor(rows: rows, cols: cols, seed: 3, scale: 8)
            let y = Tensor(rows: rows, cols: cols)
            return { backend.softmaxRows(x.data, y: y.data, rows: rows, cols: cols) }
        }
    }

    /// logits: (rows, cols), labels: (rows) -> grad: (rows, cols). Counts one read of the
    /// logits and labels and one write of the gradient.
    public static func crossEntropyCase(rows: Int, cols: Int) -> BenchCase {
        BenchCase(kind: .crossEntropy, variant: "labels", shape: "\(rows)x\(cols)",
                  workPerCall: Double((2 * rows * cols + rows) * 4), tooSlowForReference: false) { backend in
            let logits = randomTensor(rows: rows, cols: cols, seed: 4, scale: 8)
            let grad = Tensor(rows: rows, cols: cols)
            let labels = (0..<rows).map { Int32($0 % cols) }
            return {
                _ = labels.withUnsafeBufferPointer {
                    backend.softmaxCrossEntropy(logits: logits.data, labels: $0.baseAddress!, rows: rows,
                                                cols: cols, grad: grad.data, scale: 1 / Float(rows))
                }
            }
        }
    }

    /// One SGD step (lr 0.1, cross-entropy, ReLU between Dense layers) per call, on batches
    /// drawn from seeded synthetic data; the figure is batch / seconds per step.
    public static func trainCase(widths: [Int], batch: Int, data: SyntheticData) -> BenchCase {
        BenchCase(kind: .train, variant: widths.map(String.init).joined(separator: "-"), shape: "batch=\(batch)",
                  workPerCall: Double(batch), tooSlowForReference: false) { backend in
            let batches = try data.batches(features: widths[0], classes: widths[widths.count - 1], batch: batch)
            let trainer = Trainer(model: network(widths), loss: .crossEntropy(),
                                  optimizer: SGD(learningRate: 0.1), backend: backend, seed: 1)
            var next = 0
            return {
                try trainer.trainStep(batches[next])
                next = (next + 1) % batches.count
            }
        }
    }

    /// Forward pass then row softmax into a separate buffer: (batch, 784) -> (batch, 10).
    public static func inferCase(widths: [Int], batch: Int) -> BenchCase {
        BenchCase(kind: .infer, variant: widths.map(String.init).joined(separator: "-"), shape: "batch=\(batch)",
                  workPerCall: Double(batch), tooSlowForReference: false) { backend in
            let model = network(widths)
            let x = randomTensor(rows: batch, cols: widths[0], seed: 5)
            let probabilities = Tensor(rows: batch, cols: widths[widths.count - 1])
            return {
                let logits = model.forward(x, backend: backend)
                backend.softmaxRows(logits.data, y: probabilities.data, rows: logits.rows, cols: logits.cols)
            }
        }
    }

    /// Dense layers of the given widths with ReLU between them (none after the last), seed 1.
    public static func network(_ widths: [Int]) -> Sequential {
        var layers: [any Layer] = []
        for i in 0..<(widths.count - 1) {
            layers.append(Dense(widths[i], widths[i + 1]))
            if i + 2 < widths.count { layers.append(ReLU()) }
        }
        return Sequential(layers, seed: 1)
    }

    /// Values uniform in [-scale, scale), seeded.
    static func randomTensor(rows: Int, cols: Int, seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let t = Tensor(rows: rows, cols: cols)
        for i in 0..<t.count { t.data[i] = scale * Float(2 * rng.nextUnit() - 1) }
        return t
    }
}

/// Seeded synthetic classification data for the training benchmarks: `samples` rows of
/// features uniform in [0, 1) with uniformly random labels, drawn once per feature width and
/// cut into shuffled minibatches.
public final class SyntheticData {
    /// Rows drawn for the 784-feature set (MNIST's training-set size).
    public let samples: Int
    /// At most this many distinct minibatches are kept per batch size; steps cycle through them.
    public let maxBatches: Int
    private var cache: [Int: Dataset] = [:]

    /// Synthetic data of `samples` rows per feature width, at most `maxBatches` minibatches per batch size.
    public init(samples: Int = 60_000, maxBatches: Int = 64) {
        self.samples = samples
        self.maxBatches = maxBatches
    }

    /// The full dataset for a feature width (smaller widths get the digits-sized 1,797 rows).
    func dataset(features: Int, classes: Int) throws -> Dataset {
        if let cached = cache[features], cached.outputCount == classes { return cached }
        let rows = features >= 784 ? samples : min(samples, 1_797)
        var rng = SeededGenerator(seed: UInt64(features))
        let x = Tensor(rows: rows, cols: features)
        for i in 0..<x.count { x.data[i] = Float(rng.nextUnit()) }
        let labels = (0..<rows).map { _ in Int32(rng.nextInt(below: classes)) }
        let data = try Dataset(features: x, labels: labels, classCount: classes)
        cache[features] = data
        return data
    }

    /// Up to ``maxBatches`` minibatches of `batch` rows, from a seeded shuffle of the dataset.
    func batches(features: Int, classes: Int, batch: Int) throws -> [Dataset] {
        let data = try dataset(features: features, classes: classes)
        var rng = SeededGenerator(seed: UInt64(batch))
        var order = Array(0..<data.count)
        rng.shuffle(&order)
        let count = max(1, min(maxBatches, data.count / batch))
        return (0..<count).map { i in
            data.subset((0..<batch).map { order[(i * batch + $0) % order.count] })
        }
    }
}
