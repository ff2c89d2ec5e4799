import Foundation

// JSON forms of the non-tensor parts of a checkpoint, stored as strings in `__metadata__`.
// Floats are written through Double, whose shortest decimal form reads back to the same bits,
// so a resumed run continues from exactly the saved numbers.

/// `{"kind": "standardize", "offset": [...], "divisor": [...]}`.
struct NormalizerRecord: Codable {
    var kind: String
    var offset: [Float]
    var divisor: [Float]

    init(_ normalizer: Normalizer) {
        kind = normalizer.kind.rawValue
        offset = normalizer.offset
        divisor = normalizer.divisor
    }

    func normalizer() throws -> Normalizer {
        guard let kind = Normalization(rawValue: kind) else {
            throw BackpropError.invalidArgument(
                "unknown normalization '\(kind)' (known: \(Normalization.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard offset.count == divisor.count else {
            throw BackpropError.invalidArgument("\(offset.count) offsets but \(divisor.count) divisors")
        }
        return try Normalizer(kind: kind, parameters: offset + divisor)
    }
}

/// The optimizer's kind, hyperparameters and step count (its tensors are stored separately).
struct OptimizerRecord: Codable {
    var kind: String
    var learningRate: Float
    var momentum: Float?
    var nesterov: Bool?
    var beta1: Float?
    var beta2: Float?
    var epsilon: Float?
    var weightDecay: Float
    var step: Int

    init(_ optimizer: any Optimizer) throws {
        learningRate = optimizer.learningRate
        step = optimizer.stepCount
        switch optimizer {
        case let sgd as SGD:
            kind = "sgd"
            momentum = sgd.momentum
            nesterov = sgd.nesterov
            weightDecay = sgd.weightDecay
        case let adam as Adam:
            kind = adam.decoupledWeightDecay ? "adamw" : "adam"
            beta1 = adam.beta1
            beta2 = adam.beta2
            epsilon = adam.epsilon
            weightDecay = adam.weightDecay
        default:
            throw BackpropError.invalidArgument(
                "cannot save the state of optimizer \(type(of: optimizer)); checkpoints hold sgd, adam and adamw")
        }
    }

    /// A fresh optimizer with these settings (state restored by the caller), every field checked.
    func makeOptimizer() throws -> any Optimizer {
        guard learningRate.isFinite, learningRate >= 0, weightDecay.isFinite, weightDecay >= 0 else {
            throw BackpropError.invalidArgument("learning rate and weight decay must be finite and non-negative")
        }
        guard (0...maxCheckpointCount).contains(step) else {
            throw BackpropError.invalidArgument("step \(step) is outside 0...\(maxCheckpointCount)")
        }
        for (name, value) in [("beta1", beta1), ("beta2", beta2)] {
            if let value, !(value >= 0 && value < 1) {
                throw BackpropError.invalidArgument("\(name) must be in [0, 1), got \(value)")
            }
        }
        if let epsilon, !(epsilon.isFinite && epsilon >= 0) {
            throw BackpropError.invalidArgument("epsilon must be finite and non-negative, got \(epsilon)")
        }
        switch kind {
        case "sgd":
            let momentum = momentum ?? 0
            guard momentum >= 0, momentum < 1 else {
                throw BackpropError.invalidArgument("momentum must be in [0, 1), got \(momentum)")
            }
            return SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay,
                       nesterov: nesterov ?? false)
        case "adam":
            return Adam(learningRate: learningRate, beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.999,
                        epsilon: epsilon ?? 1e-8, weightDecay: weightDecay)
        case "adamw":
            return AdamW(learningRate: learningRate, beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.999,
                         epsilon: epsilon ?? 1e-8, weightDecay: weightDecay)
        default:
            throw BackpropError.invalidArgument("unknown optimizer '\(kind)' (known: sgd, adam, adamw)")
        }
    }
}

/// ``TrainingState`` with the generator as four hex words and the history as records.
struct TrainingStateRecord: Codable {
    struct Epoch: Codable {
        var epoch: Int
        var epochs: Int
        var trainLoss: Double
        var trainAccuracy: Double?
        var testLoss: Double?
        var testAccuracy: Double?
        var samplesPerSecond: Double
        var seconds: Double
    }

    var epochsCompleted: Int
    var batchesCompleted: Int
    var epochStartRng: [String]
    var epochLossSum: Double
    var epochCorrect: Int
    var epochSeen: Int
    var history: [Epoch]

    init(_ state: TrainingState) {
        epochsCompleted = state.epochsCompleted
        batchesCompleted = state.batchesCompleted
        let s = state.epochStartRNG.state
        epochStartRng = [s.0, s.1, s.2, s.3].map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        epochLossSum = state.epochLossSum
        epochCorrect = state.epochCorrect
        epochSeen = state.epochSeen
        history = Self.thinned(state.history).map {
            Epoch(epoch: $0.epoch, epochs: $0.epochs, trainLoss: $0.trainLoss, trainAccuracy: $0.trainAccuracy,
                  testLoss: $0.testLoss, testAccuracy: $0.testAccuracy,
                  samplesPerSecond: $0.samplesPerSecond, seconds: $0.seconds)
        }
    }

    /// The state, every field checked: counts in 0...2^53 (so no later sum can overflow),
    /// the correct count at most the seen count, a finite loss sum, and a generator state that
    /// is not all zero (xoshiro's one fixed point: it would return 0 forever, and shuffling with
    /// it never ends).
    /// The most epoch records a checkpoint keeps. A run of millions of epochs would otherwise
    /// write hundreds of megabytes of history on every save (and take longer to save after
    /// SIGTERM than a service manager waits); the learning curve needs far fewer points.
    static let maxHistory = 10_000

    /// `history` with at most ``maxHistory`` records, evenly spaced, the first and last kept.
    static func thinned(_ history: [EpochReport]) -> [EpochReport] {
        guard history.count > maxHistory else { return history }
        let stride = Double(history.count - 1) / Double(maxHistory - 1)
        return (0..<maxHistory).map { history[Int((Double($0) * stride).rounded())] }
    }

    func trainingState() throws -> TrainingState {
        let words = epochStartRng.compactMap { $0.count == 16 ? UInt64($0, radix: 16) : nil }
        guard words.count == 4, epochStartRng.count == 4 else {
            throw BackpropError.invalidArgument(
                "epoch_start_rng must be four 16-digit hex words, got \(printable("\(epochStartRng)", limit: 80))")
        }
        guard words.contains(where: { $0 != 0 }) else {
            throw BackpropError.invalidArgument("epoch_start_rng is all zero, which no generator ever reaches")
        }
        let counts = [("epochs_completed", epochsCompleted), ("batches_completed", batchesCompleted),
                      ("epoch_seen", epochSeen), ("epoch_correct", epochCorrect)]
        for (name, value) in counts where !(0...maxCheckpointCount).contains(value) {
            throw BackpropError.invalidArgument("\(name) \(value) is outside 0...\(maxCheckpointCount)")
        }
        guard epochCorrect <= epochSeen, epochLossSum.isFinite else {
            throw BackpropError.invalidArgument("epoch_correct exceeds epoch_seen, or epoch_loss_sum is not finite")
        }
        var state = TrainingState(seed: 0)
        state.epochsCompleted = epochsCompleted
        state.batchesCompleted = batchesCompleted
        state.epochStartRNG = SeededGenerator(state: (words[0], words[1], words[2], words[3]))
        state.epochLossSum = epochLossSum
        state.epochCorrect = epochCorrect
        state.epochSeen = epochSeen
        state.history = history.map {
            EpochReport(epoch: $0.epoch, epochs: $0.epochs, trainLoss: $0.trainLoss, trainAccuracy: $0.trainAccuracy,
                        testLoss: $0.testLoss, testAccuracy: $0.testAccuracy,
                        samplesPerSecond: $0.samplesPerSecond, seconds: $0.seconds)
        }
        return state
    }
}

/// The largest count (steps, epochs, samples) a checkpoint may hold: 2^53, past any real run
/// and far enough below `Int.max` that adding a batch or an epoch cannot overflow.
let maxCheckpointCount = 1 << 53

/// Encodes `value` as compact JSON with snake_case keys, sorted.
func encodeMetadataJSON<T: Encodable>(_ value: T, key: String) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
        throw BackpropError.invalidArgument("cannot encode checkpoint metadata '\(key)': it holds a NaN or infinite number")
    }
}

/// Decodes the JSON string `metadata[key]`, naming the file and key in any error.
func decodeMetadataJSON<T: Decodable>(_ type: T.Type, key: String, metadata: [String: String],
                                      path: String) throws -> T? {
    guard let text = metadata[key] else { return nil }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
        return try decoder.decode(type, from: Data(text.utf8))
    } catch let error as DecodingError {
        throw BackpropError.malformedFile(path: path, location: "metadata '\(key)'", message: describe(error))
    } catch {
        throw BackpropError.malformedFile(path: path, location: "metadata '\(key)'", message: "is not valid JSON")
    }
}

/// One line for a decoding error: what went wrong and where in the JSON.
private func describe(_ error: DecodingError) -> String {
    func at(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing field '\(snakeCase(key.stringValue))'\(at(context.codingPath))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "wrong type of value\(at(context.codingPath))"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "is not valid JSON" : "invalid value\(at(context.codingPath))"
    @unknown default:
        return "is not valid JSON"
    }
}

/// `batchesCompleted` -> `batches_completed`, the spelling the JSON uses.
private func snakeCase(_ name: String) -> String {
    var out = ""
    for c in name {
        if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
    return out
}
