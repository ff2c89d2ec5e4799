extension Architecture {
    /// Refuses architecture text whose parameters could not be held for training on this
    /// machine, before any layer allocates them: a forged checkpoint or a typo such as
    /// `conv2d:1:4:16777216` (a 2^24 kernel: 2^50 weights) would otherwise trap in allocation.
    ///
    /// Counts the built-in kinds with parameters from their text (`dense`, `conv2d`,
    /// `batchnorm1d`, `batchnorm2d`, at any nesting), in Doubles so nothing overflows; the
    /// limit is a sixth of physical memory in 32-bit floats, since training holds the weights,
    /// their gradients, up to two optimizer slots and a save buffer. Text that does not
    /// parse counts nothing here: building the layer then names what is wrong with it.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` naming the total, the limit and the
    ///   largest layer.
    static func checkParameterBudget(_ text: String) throws {
        let memory = Double(MemoryLimits.physicalBytes)
        guard memory > 0 else { return }
        var total = 0.0
        var largest = (count: 0.0, index: 0, text: "")
        for (index, part) in leafLayerTexts(text).enumerated() {
            let count = parameterCount(part)
            total += count
            if count > largest.count { largest = (count, index, String(part)) }
        }
        let bytes = total * 4
        guard bytes > memory / 6 else { return }
        throw BackpropError.invalidArgument(
            "the architecture has \(wholeNumber(total)) parameters, \(gibibytes(bytes)) GiB as 32-bit floats, more than "
                + "a sixth of this machine's \(gibibytes(memory)) GiB of memory (training holds them six times: with "
                + "their gradients, two optimizer slots and a save buffer); the largest is layer \(largest.index) "
                + "'\(printable(largest.text))' with \(wholeNumber(largest.count)); use fewer or smaller layers")
    }

    /// Every layer's own text, nested `sequential:[...]` opened: `sequential:[dense:2:4,relu],x`
    /// gives `dense:2:4`, `relu`, `x`.
    private static func leafLayerTexts(_ text: String) -> [Substring] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            var leaf = part
            while leaf.hasPrefix("sequential:[") { leaf = leaf.dropFirst("sequential:[".count) }
            // One backward scan (not a dropLast per bracket, which is quadratic on forged text).
            guard let last = leaf.lastIndex(where: { $0 != "]" }) else { return leaf[leaf.startIndex..<leaf.startIndex] }
            return leaf[...last]
        }
    }

    /// The parameters (and buffers) a built-in layer's text asks for; 0 for other kinds and
    /// for text that does not parse.
    // dense:I:O -> I·O + O; conv2d:I:O:K -> O·I·K·K + O; batchnormNd:C -> 4·C
    private static func parameterCount(_ text: Substring) -> Double {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        let sizes = fields.dropFirst().prefix { Int($0).map { $0 > 0 } ?? false }.map { Double(Int($0)!) }
        switch (fields.first, sizes.count) {
        case ("dense", 2...): return sizes[0] * sizes[1] + sizes[1]
        case ("conv2d", 3...): return sizes[1] * sizes[0] * sizes[2] * sizes[2] + sizes[1]
        case ("batchnorm1d", 1...), ("batchnorm2d", 1...): return 4 * sizes[0]
        default: return 0
        }
    }

    private static func gibibytes(_ bytes: Double) -> String {
        let g = bytes / Double(1 << 30)
        return g < 1e15 ? String((g * 10).rounded() / 10) : "about \(g)"
    }

    private static func wholeNumber(_ x: Double) -> String {
        x < 9e18 ? String(Int(x)) : "about \(x)"
    }
}
