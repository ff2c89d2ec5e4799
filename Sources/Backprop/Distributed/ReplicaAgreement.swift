/// A 64-bit fingerprint (FNV-1a over 32-bit words) of values that must be identical on every
/// rank: not cryptographic, only to notice ranks that loaded different data or drifted apart.
struct Fingerprint: Equatable {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ word: UInt32) { value = (value ^ UInt64(word)) &* 0x0000_0100_0000_01B3 }
    mutating func add(_ number: Int) { add(UInt32(truncatingIfNeeded: number)); add(UInt32(truncatingIfNeeded: number >> 32)) }
    mutating func add(_ number: UInt64) { add(Int(bitPattern: UInt(number))) }
    mutating func add(_ text: String) { add(text.utf8.count); for byte in text.utf8 { add(UInt32(byte)) } }
    /// Every element's bit pattern.
    mutating func add(_ data: UnsafePointer<Float>, count: Int) {
        add(count)
        for i in 0..<count { add(data[i].bitPattern) }
    }
}

/// Checks that every rank holds the same values: rank 0's fingerprints are broadcast, each rank
/// compares its own, and one all-reduce tells every rank which ranks differ and in what, so all
/// of them throw the same error (none is left waiting in a collective).
enum ReplicaAgreement {
    /// - Parameters:
    ///   - fingerprints: named fingerprints, in the same order on every rank.
    ///   - remedy: appended to the error, e.g. "every rank must load the same data".
    /// - Throws: ``BackpropError/communication(_:)`` naming the first rank and value that differ.
    static func check(_ fingerprints: [(name: String, value: Fingerprint)], remedy: String,
                      communicator: any Communicator) throws {
        var rootValues = fingerprints.map { $0.value.value }
        try rootValues.withUnsafeMutableBytes { try communicator.broadcast($0, root: 0) }
        let fields = fingerprints.count
        // differs[rank * fields + field] = 1 where that rank's value differs from rank 0's.
        var differs = [Float](repeating: 0, count: communicator.size * fields)
        for (field, fingerprint) in fingerprints.enumerated() where fingerprint.value.value != rootValues[field] {
            differs[communicator.rank * fields + field] = 1
        }
        try differs.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        guard let first = differs.firstIndex(where: { $0 != 0 }) else { return }
        let rank = first / fields, name = fingerprints[first % fields].name
        throw BackpropError.communication("rank \(rank)'s \(name) differs from rank 0's; \(remedy)")
    }
}

extension Trainer {
    /// Fingerprints of what must be the same on every rank before training starts.
    func startFingerprints(train: Dataset, epochs: Int, batchSize: Int) -> [(name: String, value: Fingerprint)] {
        var data = Fingerprint()
        data.add(train.featureCount)
        data.add(train.features.data, count: train.features.count)
        switch train.targets {
        case .labels(let labels, let classes):
            data.add(classes)
            for label in labels { data.add(UInt32(bitPattern: label)) }
        case .values(let targets):
            data.add(targets.data, count: targets.count)
        }
        var model = Fingerprint()
        for layer in self.model.layers { model.add(layer.summary) }
        model.add(loss.kind.rawValue)
        model.add(loss.reduction.rawValue)
        model.add(Int(clipGradNorm?.bitPattern ?? 0))
        var schedule = Fingerprint()
        schedule.add(epochs)
        schedule.add(batchSize)
        var progress = Fingerprint()
        progress.add(state.epochsCompleted)
        progress.add(state.batchesCompleted)
        let (a, b, c, d) = state.epochStartRNG.state
        for word in [a, b, c, d] { progress.add(word) }
        var optimizerState = Fingerprint()
        optimizerState.add(String(describing: type(of: optimizer)))
        optimizerState.add(optimizer.learningRate.bitPattern)
        optimizerState.add(optimizer.stepCount)
        for (name, tensor) in optimizer.state {
            optimizerState.add(name)
            optimizerState.add(tensor.data, count: tensor.count)
        }
        return [("training data", data), ("model", model), ("epochs and batch size", schedule),
                ("training progress", progress), ("optimizer state", optimizerState)]
    }

    /// The fingerprint of every parameter's value.
    func weightFingerprint() -> Fingerprint {
        var weights = Fingerprint()
        for (name, p) in model.namedParameters {
            weights.add(name)
            weights.add(p.value.data, count: p.value.count)
        }
        return weights
    }
}
