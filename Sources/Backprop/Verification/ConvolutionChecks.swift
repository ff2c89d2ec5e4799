extension VerificationRun {
    /// Windows only the convolution checks add: padding wider than the kernel, a row longer
    /// than two AVX-512 vectors, and LeNet's second layer at a larger batch.
    static let convolutionCases: [(batch: Int, window: Window2d)] = [
        (2, Window2d(channels: 2, height: 4, width: 5, kernelHeight: 1, kernelWidth: 1, padding: 1)),
        (1, Window2d(channels: 2, height: 6, width: 37, kernelHeight: 3, kernelWidth: 2, padding: 2)),
        (9, Window2d(channels: 6, height: 14, width: 14, kernelHeight: 5, kernelWidth: 5)),
    ]

    /// The direct convolution (forward, input gradient, weight gradient with and without
    /// accumulation) on every window of ``windowCases`` and ``convolutionCases``, with 1 to 16 output channels (LeNet's
    /// 6 and 16 included) and with and without bias, against the reference loops.
    func checkConvolution() {
        var rng = generator("convolution")
        var forward = meter(.conv2dForward), data = meter(.conv2dBackwardData), weights = meter(.conv2dBackwardWeight)
        let outChannelCounts = [1, 6, 16, 3, 9, 2, 7, 5, 11, 4]
        for (index, (batch, w)) in (Self.windowCases + Self.convolutionCases).enumerated() where w.fits {
            let k = outChannelCounts[index % outChannelCounts.count]
            let misaligned = index % 2 == 1
            let label = "batch \(batch) \(w) out \(k)"
            let inCount = batch * w.channels * w.height * w.width, outCount = batch * k * w.outPositions
            let weightCount = k * w.patchSize
            let x = Scratch(count: inCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let weight = Scratch(count: weightCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let bias = Scratch(count: k, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let withBias = index % 3 != 2

            // |Δ| ≤ 2·(terms + 2)·ε·scale, terms and scale as for a GEMM of the same sums.
            func compare(_ got: Scratch<Float>, _ want: Scratch<Float>, terms: Int, scale: Double, meter: inout ErrorMeter) {
                let tolerance = meter.tolerance
                meter.compare(got, want) { _ in tolerance.allowed(reference: 0, terms: terms + 2, scale: scale) }
            }

            let wantY = Scratch<Float>(count: outCount, misaligned: misaligned)
            let gotY = Scratch<Float>(count: outCount, misaligned: misaligned)
            reference.conv2dForward(x.pointer, batch: batch, window: w, weight: weight.pointer,
                                    bias: withBias ? bias.pointer : nil, outChannels: k, y: wantY.pointer)
            backend.conv2dForward(x.pointer, batch: batch, window: w, weight: weight.pointer,
                                  bias: withBias ? bias.pointer : nil, outChannels: k, y: gotY.pointer)
            compare(gotY, wantY, terms: w.patchSize,
                    scale: x.maxMagnitude * weight.maxMagnitude + (withBias ? bias.maxMagnitude : 0), meter: &forward)
            forward.finishCase(label + (withBias ? "" : " no bias"))

            let dy = Scratch(count: outCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let wantDx = Scratch<Float>(count: inCount, misaligned: misaligned)
            let gotDx = Scratch<Float>(count: inCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            reference.conv2dBackwardData(dy.pointer, batch: batch, window: w, weight: weight.pointer,
                                         outChannels: k, dx: wantDx.pointer)
            backend.conv2dBackwardData(dy.pointer, batch: batch, window: w, weight: weight.pointer,
                                       outChannels: k, dx: gotDx.pointer)
            compare(gotDx, wantDx, terms: k * w.kernelHeight * w.kernelWidth,
                    scale: dy.maxMagnitude * weight.maxMagnitude, meter: &data)
            data.finishCase(label)

            // dW and db: overwrite both, accumulate both, and dW alone (no bias).
            for (accumulate, withBiasGrad) in [(false, true), (true, true), (false, false)] {
                let wantW = Scratch(copying: weight), gotW = Scratch(copying: weight)
                let wantB = Scratch(copying: bias), gotB = Scratch(copying: bias)
                reference.conv2dBackwardWeight(x.pointer, dy: dy.pointer, batch: batch, window: w, outChannels: k,
                                               into: wantW.pointer, accumulate: accumulate,
                                               bias: withBiasGrad ? wantB.pointer : nil, accumulateBias: accumulate)
                backend.conv2dBackwardWeight(x.pointer, dy: dy.pointer, batch: batch, window: w, outChannels: k,
                                             into: gotW.pointer, accumulate: accumulate,
                                             bias: withBiasGrad ? gotB.pointer : nil, accumulateBias: accumulate)
                compare(gotW, wantW, terms: batch * w.outPositions,
                        scale: x.maxMagnitude * dy.maxMagnitude + (accumulate ? weight.maxMagnitude : 0), meter: &weights)
                compare(gotB, wantB, terms: batch * w.outPositions,
                        scale: dy.maxMagnitude + (accumulate ? bias.maxMagnitude : 0), meter: &weights)
                weights.finishCase(label + (accumulate ? " accumulate" : "") + (withBiasGrad ? " with bias" : ""))
            }
        }
        store(forward, for: .conv2dForward)
        store(data, for: .conv2dBackwardData)
        store(weights, for: .conv2dBackwardWeight)
    }
}
