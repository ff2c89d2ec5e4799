extension VerificationRun {
    /// Windows covering 1×1 kernels, stride > 1, padding, odd and prime sizes, kernels as large
    /// as the input, and LeNet's layers; each with a batch (1 included).
    static let windowCases: [(batch: Int, window: Window2d)] = [
        (1, Window2d(channels: 1, height: 1, width: 1, kernelHeight: 1, kernelWidth: 1)),
        (2, Window2d(channels: 3, height: 5, width: 7, kernelHeight: 1, kernelWidth: 1)),
        (1, Window2d(channels: 2, height: 7, width: 5, kernelHeight: 3, kernelWidth: 3)),
        (3, Window2d(channels: 3, height: 11, width: 13, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1)),
        (2, Window2d(channels: 1, height: 28, width: 28, kernelHeight: 5, kernelWidth: 5, padding: 2)),
        (2, Window2d(channels: 6, height: 14, width: 14, kernelHeight: 5, kernelWidth: 5)),
        (1, Window2d(channels: 5, height: 7, width: 7, kernelHeight: 7, kernelWidth: 7)),
        (2, Window2d(channels: 2, height: 9, width: 6, kernelHeight: 2, kernelWidth: 3, stride: 3, padding: 2)),
        (1, Window2d(channels: 1, height: 3, width: 3, kernelHeight: 5, kernelWidth: 5, padding: 1)),
        (17, Window2d(channels: 3, height: 8, width: 8, kernelHeight: 2, kernelWidth: 2, stride: 2)),
    ]

    /// im2col and col2im on every window.
    func checkPatches() {
        var rng = generator("patches")
        var forward = meter(.im2col), adjoint = meter(.col2im), swap = meter(.swapLeadingAxes)
        for (index, (batch, w)) in Self.windowCases.enumerated() where w.fits {
            let misaligned = index % 2 == 1
            let inCount = batch * w.channels * w.height * w.width, colCount = batch * w.patchSize * w.outPositions
            let x = Scratch(count: inCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let want = Scratch<Float>(count: colCount, misaligned: misaligned)
            let got = Scratch<Float>(count: colCount, misaligned: misaligned)
            reference.im2col(x.pointer, batch: batch, window: w, col: want.pointer)
            backend.im2col(x.pointer, batch: batch, window: w, col: got.pointer)
            forward.compare(got, want)
            forward.finishCase("batch \(batch) \(w)")

            let col = Scratch(count: colCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let wantDx = Scratch<Float>(count: inCount, misaligned: misaligned)
            let gotDx = Scratch<Float>(count: inCount, misaligned: misaligned)
            reference.col2im(col.pointer, batch: batch, window: w, dx: wantDx.pointer)
            backend.col2im(col.pointer, batch: batch, window: w, dx: gotDx.pointer)
            adjoint.compare(gotDx, wantDx)
            adjoint.finishCase("batch \(batch) \(w)")

            // col viewed as (C·kh·kw, N, outH·outW) -> (N, C·kh·kw, outH·outW)
            let swapped = Scratch<Float>(count: colCount, misaligned: !misaligned)
            let wantSwapped = Scratch<Float>(count: colCount, misaligned: !misaligned)
            reference.swapLeadingAxes(col.pointer, a: w.patchSize, b: batch, inner: w.outPositions, y: wantSwapped.pointer)
            backend.swapLeadingAxes(col.pointer, a: w.patchSize, b: batch, inner: w.outPositions, y: swapped.pointer)
            swap.compare(swapped, wantSwapped)
            swap.finishCase("(\(w.patchSize), \(batch), \(w.outPositions))")
        }
        store(forward, for: .im2col)
        store(adjoint, for: .col2im)
        store(swap, for: .swapLeadingAxes)
    }

    /// Max and average pooling, forward and backward, on every window (planes = batch · C).
    func checkPooling() {
        var rng = generator("pooling")
        var maxForward = meter(.maxPool2dForward), maxBackward = meter(.maxPool2dBackward)
        var avgForward = meter(.avgPool2dForward), avgBackward = meter(.avgPool2dBackward)
        for (index, (batch, window)) in Self.windowCases.enumerated() where window.fits {
            var w = window
            w.channels = 1
            let planes = batch * window.channels
            let misaligned = index % 2 == 1
            let label = "planes \(planes) \(w)"
            let inCount = planes * w.height * w.width, outCount = planes * w.outPositions
            let x = Scratch(count: inCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            // Ties: every third value repeats its neighbour, so "first maximum" matters.
            for i in stride(from: 1, to: inCount, by: 3) { x[i] = x[i - 1] }
            let wantY = Scratch<Float>(count: outCount, misaligned: misaligned)
            let gotY = Scratch<Float>(count: outCount, misaligned: misaligned)
            let wantArgmax = Scratch<Int32>(count: outCount, misaligned: misaligned, sentinel: -9)
            let gotArgmax = Scratch<Int32>(count: outCount, misaligned: misaligned, sentinel: -9)
            reference.maxPool2dForward(x.pointer, planes: planes, window: w, y: wantY.pointer, argmax: wantArgmax.pointer)
            backend.maxPool2dForward(x.pointer, planes: planes, window: w, y: gotY.pointer, argmax: gotArgmax.pointer)
            maxForward.compare(gotY, wantY)
            for i in 0..<outCount { maxForward.compare(Double(gotArgmax[i]), Double(wantArgmax[i]), allowed: 0) }
            maxForward.requireGuards(gotArgmax)
            maxForward.finishCase(label)

            let dy = Scratch(count: outCount, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let wantDx = Scratch<Float>(count: inCount, misaligned: misaligned)
            let gotDx = Scratch<Float>(count: inCount, misaligned: misaligned)
            reference.maxPool2dBackward(dy.pointer, argmax: wantArgmax.pointer, planes: planes, window: w, dx: wantDx.pointer)
            backend.maxPool2dBackward(dy.pointer, argmax: wantArgmax.pointer, planes: planes, window: w, dx: gotDx.pointer)
            maxBackward.compare(gotDx, wantDx)
            maxBackward.finishCase(label)

            reference.avgPool2dForward(x.pointer, planes: planes, window: w, y: wantY.pointer)
            backend.avgPool2dForward(x.pointer, planes: planes, window: w, y: gotY.pointer)
            avgForward.compare(gotY, wantY)
            avgForward.finishCase(label)

            reference.avgPool2dBackward(dy.pointer, planes: planes, window: w, dx: wantDx.pointer)
            backend.avgPool2dBackward(dy.pointer, planes: planes, window: w, dx: gotDx.pointer)
            avgBackward.compare(gotDx, wantDx)
            avgBackward.finishCase(label)
        }
        store(maxForward, for: .maxPool2dForward)
        store(maxBackward, for: .maxPool2dBackward)
        store(avgForward, for: .avgPool2dForward)
        store(avgBackward, for: .avgPool2dBackward)
    }

    /// (batch, channels, spatial) cases for the per-channel ops.
    static let channelCases: [(batch: Int, channels: Int, spatial: Int)] = [
        (1, 1, 1), (1, 7, 1), (3, 1, 13), (2, 6, 784), (5, 16, 25), (64, 3, 1), (1, 31, 49), (13, 2, 17),
    ]

    /// addChannelBias, sumChannels (overwrite and accumulate) and multiply.
    func checkChannelOps() {
        var rng = generator("channel_ops")
        var bias = meter(.addChannelBias), sums = meter(.sumChannels), product = meter(.multiply)
        for (index, (batch, channels, spatial)) in Self.channelCases.enumerated() {
            let misaligned = index % 2 == 1
            let label = "N \(batch) C \(channels) S \(spatial)"
            let count = batch * channels * spatial
            let x = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let b = Scratch(count: channels, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let want = Scratch(copying: x), got = Scratch(copying: x)
            reference.addChannelBias(want.pointer, bias: b.pointer, batch: batch, channels: channels, spatial: spatial)
            backend.addChannelBias(got.pointer, bias: b.pointer, batch: batch, channels: channels, spatial: spatial)
            bias.compare(got, want)
            bias.finishCase(label)

            for accumulate in [false, true] {
                let wantSum = Scratch(copying: b), gotSum = Scratch(copying: b)
                reference.sumChannels(x.pointer, batch: batch, channels: channels, spatial: spatial,
                                      into: wantSum.pointer, accumulate: accumulate)
                backend.sumChannels(x.pointer, batch: batch, channels: channels, spatial: spatial,
                                    into: gotSum.pointer, accumulate: accumulate)
                sums.compare(gotSum, wantSum)
                sums.finishCase(label + (accumulate ? " accumulate" : ""))
            }

            let y = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let wantProduct = Scratch<Float>(count: count, misaligned: misaligned)
            let gotProduct = Scratch(copying: y)
            reference.multiply(x.pointer, y.pointer, into: wantProduct.pointer, count: count)
            backend.multiply(x.pointer, gotProduct.pointer, into: gotProduct.pointer, count: count)
            product.compare(gotProduct, wantProduct)
            product.finishCase(label + " in place")
        }
        store(bias, for: .addChannelBias)
        store(sums, for: .sumChannels)
        store(product, for: .multiply)
    }

    /// Batch-norm statistics, forward (with and without xhat) and backward (with and without dx,
    /// overwrite and accumulate), each from the reference's inputs.
    func checkBatchNorm() {
        var rng = generator("batch_norm")
        var statistics = meter(.batchNormStatistics), forward = meter(.batchNormForward), backward = meter(.batchNormBackward)
        for (index, (batch, channels, spatial)) in Self.channelCases.enumerated() {
            let misaligned = index % 2 == 1
            let label = "N \(batch) C \(channels) S \(spatial)"
            let count = batch * channels * spatial
            let x = Scratch(count: count, misaligned: misaligned, uniform: -2, 3, using: &rng)
            let wantMean = Scratch<Float>(count: channels, misaligned: misaligned)
            let wantVar = Scratch<Float>(count: channels, misaligned: misaligned)
            let gotMean = Scratch<Float>(count: channels, misaligned: misaligned)
            let gotVar = Scratch<Float>(count: channels, misaligned: misaligned)
            reference.batchNormStatistics(x.pointer, batch: batch, channels: channels, spatial: spatial,
                                          mean: wantMean.pointer, variance: wantVar.pointer)
            backend.batchNormStatistics(x.pointer, batch: batch, channels: channels, spatial: spatial,
                                        mean: gotMean.pointer, variance: gotVar.pointer)
            statistics.compare(gotMean, wantMean)
            statistics.compare(gotVar, wantVar)
            statistics.finishCase(label)

            let gamma = Scratch(count: channels, misaligned: misaligned, uniform: 0.5, 2, using: &rng)
            let beta = Scratch(count: channels, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let wantXhat = Scratch<Float>(count: count, misaligned: misaligned)
            let gotXhat = Scratch<Float>(count: count, misaligned: misaligned)
            let wantY = Scratch<Float>(count: count, misaligned: misaligned)
            let gotY = Scratch<Float>(count: count, misaligned: misaligned)
            for keepXhat in [true, false] {
                reference.batchNormForward(x.pointer, batch: batch, channels: channels, spatial: spatial,
                                           mean: wantMean.pointer, variance: wantVar.pointer, epsilon: 1e-5,
                                           gamma: gamma.pointer, beta: beta.pointer, xhat: wantXhat.pointer, y: wantY.pointer)
                backend.batchNormForward(x.pointer, batch: batch, channels: channels, spatial: spatial,
                                         mean: wantMean.pointer, variance: wantVar.pointer, epsilon: 1e-5,
                                         gamma: gamma.pointer, beta: beta.pointer,
                                         xhat: keepXhat ? gotXhat.pointer : nil, y: gotY.pointer)
                forward.compare(gotY, wantY)
                if keepXhat { forward.compare(gotXhat, wantXhat) }
                forward.finishCase(label + (keepXhat ? "" : " without xhat"))
            }

            let dy = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            for (keepDx, accumulate) in [(true, false), (false, true)] {
                let wantDx = Scratch<Float>(count: count, misaligned: misaligned)
                let gotDx = Scratch<Float>(count: count, misaligned: misaligned)
                let wantGamma = Scratch(copying: beta), gotGamma = Scratch(copying: beta)
                let wantBeta = Scratch(copying: gamma), gotBeta = Scratch(copying: gamma)
                reference.batchNormBackward(dy.pointer, xhat: wantXhat.pointer, batch: batch, channels: channels,
                                            spatial: spatial, variance: wantVar.pointer, epsilon: 1e-5, gamma: gamma.pointer,
                                            dx: wantDx.pointer, dgamma: wantGamma.pointer, dbeta: wantBeta.pointer,
                                            accumulate: accumulate)
                backend.batchNormBackward(dy.pointer, xhat: wantXhat.pointer, batch: batch, channels: channels,
                                          spatial: spatial, variance: wantVar.pointer, epsilon: 1e-5, gamma: gamma.pointer,
                                          dx: keepDx ? gotDx.pointer : nil, dgamma: gotGamma.pointer, dbeta: gotBeta.pointer,
                                          accumulate: accumulate)
                if keepDx { backward.compare(gotDx, wantDx) } else { backward.requireGuards(gotDx) }
                backward.compare(gotGamma, wantGamma)
                backward.compare(gotBeta, wantBeta)
                backward.finishCase(label + (keepDx ? "" : " without dx") + (accumulate ? " accumulate" : ""))
            }
        }
        store(statistics, for: .batchNormStatistics)
        store(forward, for: .batchNormForward)
        store(backward, for: .batchNormBackward)
    }
}
