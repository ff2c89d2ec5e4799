// The reference implementation of the image primitives (convolution patches, pooling, batch
// norm): plain loops, the oracle the C kernels are checked against. Default implementations of
// the `Backend` requirements, so every backend has them.
extension Backend {
    // x: (N, C, H, W) -> col: (C·kh·kw, N·outH·outW)
    public func im2col(_ x: UnsafePointer<Float>, batch: Int, window w: Window2d, col: UnsafeMutablePointer<Float>) {
        ReferenceUse.note(.im2col)
        let inSize = w.channels * w.height * w.width
        for n in 0..<batch {
            referenceIm2col(x + n * inSize, window: w, col: col + n * w.outPositions, rowStride: batch * w.outPositions)
        }
    }

    // col: (C·kh·kw, N·outH·outW) -> dx: (N, C, H, W)
    public func col2im(_ col: UnsafePointer<Float>, batch: Int, window w: Window2d, dx: UnsafeMutablePointer<Float>) {
        ReferenceUse.note(.col2im)
        let inSize = w.channels * w.height * w.width
        for n in 0..<batch {
            referenceCol2im(col + n * w.outPositions, window: w, dx: dx + n * inSize, rowStride: batch * w.outPositions)
        }
    }

    // x: (A, B, inner) -> y: (B, A, inner)
    public func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        ReferenceUse.note(.swapLeadingAxes)
        for i in 0..<a {
            for j in 0..<b { (y + (j * a + i) * inner).update(from: x + (i * b + j) * inner, count: inner) }
        }
    }

    // x: (C, H, W) -> col: (C·kh·kw, outH·outW), rows `rowStride` apart
    private func referenceIm2col(_ x: UnsafePointer<Float>, window w: Window2d, col: UnsafeMutablePointer<Float>, rowStride: Int) {
        let outH = w.outHeight, outW = w.outWidth
        var row = 0
        for c in 0..<w.channels {
            let plane = x + c * w.height * w.width
            for i in 0..<w.kernelHeight {
                for j in 0..<w.kernelWidth {
                    let out = col + row * rowStride
                    for oy in 0..<outH {
                        let iy = oy * w.stride + i - w.padding
                        for ox in 0..<outW {
                            let ix = ox * w.stride + j - w.padding
                            let inside = iy >= 0 && iy < w.height && ix >= 0 && ix < w.width
                            out[oy * outW + ox] = inside ? plane[iy * w.width + ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    // col: (C·kh·kw, outH·outW), rows `rowStride` apart -> dx: (C, H, W)
    private func referenceCol2im(_ col: UnsafePointer<Float>, window w: Window2d, dx: UnsafeMutablePointer<Float>, rowStride: Int) {
        let outH = w.outHeight, outW = w.outWidth
        dx.update(repeating: 0, count: w.channels * w.height * w.width)
        var row = 0
        for c in 0..<w.channels {
            let plane = dx + c * w.height * w.width
            for i in 0..<w.kernelHeight {
                for j in 0..<w.kernelWidth {
                    let source = col + row * rowStride
                    for oy in 0..<outH {
                        let iy = oy * w.stride + i - w.padding
                        guard iy >= 0 && iy < w.height else { continue }
                        for ox in 0..<outW {
                            let ix = ox * w.stride + j - w.padding
                            if ix >= 0 && ix < w.width { plane[iy * w.width + ix] += source[oy * outW + ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    // x: (planes, H, W) -> y, argmax: (planes, outH, outW)
    public func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window w: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        ReferenceUse.note(.maxPool2dForward)
        let outH = w.outHeight, outW = w.outWidth
        for p in 0..<planes {
            let plane = x + p * w.height * w.width
            for oy in 0..<outH {
                for ox in 0..<outW {
                    var best = -Float.infinity, bestIndex = -1
                    for i in 0..<w.kernelHeight {
                        let iy = oy * w.stride + i - w.padding
                        guard iy >= 0 && iy < w.height else { continue }
                        for j in 0..<w.kernelWidth {
                            let ix = ox * w.stride + j - w.padding
                            guard ix >= 0 && ix < w.width else { continue }
                            let v = plane[iy * w.width + ix]
                            if bestIndex < 0 || v > best || (v.isNaN && !best.isNaN) {
                                best = v
                                bestIndex = iy * w.width + ix
                            }
                        }
                    }
                    let o = (p * outH + oy) * outW + ox
                    y[o] = best
                    argmax[o] = Int32(max(bestIndex, 0))
                }
            }
        }
    }

    // dy, argmax: (planes, outH, outW) -> dx: (planes, H, W)
    public func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window w: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        ReferenceUse.note(.maxPool2dBackward)
        let outCount = w.outPositions, inCount = w.height * w.width
        dx.update(repeating: 0, count: planes * inCount)
        for p in 0..<planes {
            for o in 0..<outCount {
                dx[p * inCount + Int(argmax[p * outCount + o])] += dy[p * outCount + o]
            }
        }
    }

    // x: (planes, H, W) -> y: (planes, outH, outW)
    public func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window w: Window2d, y: UnsafeMutablePointer<Float>) {
        ReferenceUse.note(.avgPool2dForward)
        let outH = w.outHeight, outW = w.outWidth
        let scale = 1 / Float(w.kernelHeight * w.kernelWidth)
        for p in 0..<planes {
            let plane = x + p * w.height * w.width
            for oy in 0..<outH {
                for ox in 0..<outW {
                    var sum: Float = 0
                    for i in 0..<w.kernelHeight {
                        let iy = oy * w.stride + i - w.padding
                        guard iy >= 0 && iy < w.height else { continue }
                        for j in 0..<w.kernelWidth {
                            let ix = ox * w.stride + j - w.padding
                            if ix >= 0 && ix < w.width { sum += plane[iy * w.width + ix] }
                        }
                    }
                    y[(p * outH + oy) * outW + ox] = sum * scale
                }
            }
        }
    }

    // dy: (planes, outH, outW) -> dx: (planes, H, W)
    public func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window w: Window2d, dx: UnsafeMutablePointer<Float>) {
        ReferenceUse.note(.avgPool2dBackward)
        let outH = w.outHeight, outW = w.outWidth
        let scale = 1 / Float(w.kernelHeight * w.kernelWidth)
        dx.update(repeating: 0, count: planes * w.height * w.width)
        for p in 0..<planes {
            let plane = dx + p * w.height * w.width
            for oy in 0..<outH {
                for ox in 0..<outW {
                    let g = dy[(p * outH + oy) * outW + ox] * scale
                    for i in 0..<w.kernelHeight {
                        let iy = oy * w.stride + i - w.padding
                        guard iy >= 0 && iy < w.height else { continue }
                        for j in 0..<w.kernelWidth {
                            let ix = ox * w.stride + j - w.padding
                            if ix >= 0 && ix < w.width { plane[iy * w.width + ix] += g }
                        }
                    }
                }
            }
        }
    }

    // x: (N, C, S) += bias: (C)
    public func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        ReferenceUse.note(.addChannelBias)
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = x + (n * channels + c) * spatial
                let b = bias[c]
                for s in 0..<spatial { plane[s] += b }
            }
        }
    }

    // x: (N, C, S) -> out: (C)
    public func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        ReferenceUse.note(.sumChannels)
        for c in 0..<channels {
            var sum: Double = 0
            for n in 0..<batch {
                let plane = x + (n * channels + c) * spatial
                for s in 0..<spatial { sum += Double(plane[s]) }
            }
            out[c] = accumulate ? out[c] + Float(sum) : Float(sum)
        }
    }

    // x: (N, C, S) -> mean, variance: (C)
    public func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        ReferenceUse.note(.batchNormStatistics)
        let m = Double(batch * spatial)
        for c in 0..<channels {
            var sum: Double = 0
            for n in 0..<batch {
                let plane = x + (n * channels + c) * spatial
                for s in 0..<spatial { sum += Double(plane[s]) }
            }
            let mu = sum / m
            var squares: Double = 0
            for n in 0..<batch {
                let plane = x + (n * channels + c) * spatial
                for s in 0..<spatial {
                    let d = Double(plane[s]) - mu
                    squares += d * d
                }
            }
            mean[c] = Float(mu)
            variance[c] = Float(squares / m)
        }
    }

    // x: (N, C, S) -> xhat, y: (N, C, S)
    public func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        ReferenceUse.note(.batchNormForward)
        for c in 0..<channels {
            let invStd = 1 / (variance[c] + epsilon).squareRoot()
            let mu = mean[c], g = gamma[c], b = beta[c]
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                for s in 0..<spatial {
                    let h = (x[offset + s] - mu) * invStd
                    xhat?[offset + s] = h
                    y[offset + s] = g * h + b
                }
            }
        }
    }

    // dy, xhat: (N, C, S) -> dx: (N, C, S), dgamma, dbeta: (C)
    public func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        ReferenceUse.note(.batchNormBackward)
        let m = Double(batch * spatial)
        for c in 0..<channels {
            var sumDy: Double = 0, sumDyXhat: Double = 0
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                for s in 0..<spatial {
                    sumDy += Double(dy[offset + s])
                    sumDyXhat += Double(dy[offset + s]) * Double(xhat[offset + s])
                }
            }
            dgamma[c] = (accumulate ? dgamma[c] : 0) + Float(sumDyXhat)
            dbeta[c] = (accumulate ? dbeta[c] : 0) + Float(sumDy)
            guard let dx else { continue }
            let invStd = 1 / (variance[c] + epsilon).squareRoot()
            let scale = gamma[c] * invStd
            let meanDy = Float(sumDy / m), meanDyXhat = Float(sumDyXhat / m)
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                for s in 0..<spatial {
                    dx[offset + s] = scale * (dy[offset + s] - meanDy - xhat[offset + s] * meanDyXhat)
                }
            }
        }
    }

    public func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        ReferenceUse.note(.multiply)
        for i in 0..<count { y[i] = a[i] * b[i] }
    }
}
