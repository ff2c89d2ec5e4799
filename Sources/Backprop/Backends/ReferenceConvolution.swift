// The reference implementation of the direct convolution primitives: plain loops over the
// definition, the oracle the C kernels are checked against. Default implementations of the
// `Backend` requirements, so every backend has them; a backend whose own versions beat
// im2col + GEMM says so with `prefersDirectConvolution`.
extension Backend {
    /// False: ``Conv2d`` runs im2col + GEMM unless a backend overrides this.
    public var prefersDirectConvolution: Bool { false }

    // x: (N, C, H, W), weight: (K, C, kh, kw), bias: (K) -> y: (N, K, outH, outW)
    public func conv2dForward(
        _ x: UnsafePointer<Float>, batch: Int, window w: Window2d, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, y: UnsafeMutablePointer<Float>
    ) {
        let outH = w.outHeight, outW = w.outWidth, kh = w.kernelHeight, kw = w.kernelWidth
        for n in 0..<batch {
            let sample = x + n * w.channels * w.height * w.width
            for o in 0..<outChannels {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        var sum: Float = bias?[o] ?? 0
                        for c in 0..<w.channels {
                            for i in 0..<kh {
                                let iy = oy * w.stride + i - w.padding
                                guard iy >= 0 && iy < w.height else { continue }
                                for j in 0..<kw {
                                    let ix = ox * w.stride + j - w.padding
                                    guard ix >= 0 && ix < w.width else { continue }
                                    sum += weight[((o * w.channels + c) * kh + i) * kw + j]
                                        * sample[(c * w.height + iy) * w.width + ix]
                                }
                            }
                        }
                        y[((n * outChannels + o) * outH + oy) * outW + ox] = sum
                    }
                }
            }
        }
    }

    // dy: (N, K, outH, outW), weight: (K, C, kh, kw) -> dx: (N, C, H, W)
    public func conv2dBackwardData(
        _ dy: UnsafePointer<Float>, batch: Int, window w: Window2d, weight: UnsafePointer<Float>,
        outChannels: Int, dx: UnsafeMutablePointer<Float>
    ) {
        let outH = w.outHeight, outW = w.outWidth, kh = w.kernelHeight, kw = w.kernelWidth
        for n in 0..<batch {
            for c in 0..<w.channels {
                for iy in 0..<w.height {
                    for ix in 0..<w.width {
                        // Every (o, oy, ox, i, j) with oy·s + i − p = iy and ox·s + j − p = ix.
                        var sum: Float = 0
                        for o in 0..<outChannels {
                            for i in 0..<kh {
                                let ty = iy + w.padding - i
                                guard ty >= 0, ty % w.stride == 0, ty / w.stride < outH else { continue }
                                for j in 0..<kw {
                                    let tx = ix + w.padding - j
                                    guard tx >= 0, tx % w.stride == 0, tx / w.stride < outW else { continue }
                                    sum += dy[((n * outChannels + o) * outH + ty / w.stride) * outW + tx / w.stride]
                                        * weight[((o * w.channels + c) * kh + i) * kw + j]
                                }
                            }
                        }
                        dx[((n * w.channels + c) * w.height + iy) * w.width + ix] = sum
                    }
                }
            }
        }
    }

    // x: (N, C, H, W), dy: (N, K, outH, outW) -> dweight: (K, C, kh, kw)
    public func conv2dBackwardWeight(
        _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, window w: Window2d,
        outChannels: Int, into dweight: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias dbias: UnsafeMutablePointer<Float>?, accumulateBias: Bool
    ) {
        let outH = w.outHeight, outW = w.outWidth, kh = w.kernelHeight, kw = w.kernelWidth
        for o in 0..<outChannels {
            if let dbias {
                var sum: Float = 0
                for n in 0..<batch {
                    let grad = dy + (n * outChannels + o) * outH * outW
                    for s in 0..<outH * outW { sum += grad[s] }
                }
                dbias[o] = accumulateBias ? dbias[o] + sum : sum
            }
            for c in 0..<w.channels {
                for i in 0..<kh {
                    for j in 0..<kw {
                        var sum: Float = 0
                        for n in 0..<batch {
                            let plane = x + (n * w.channels + c) * w.height * w.width
                            let grad = dy + (n * outChannels + o) * outH * outW
                            for oy in 0..<outH {
                                let iy = oy * w.stride + i - w.padding
                                guard iy >= 0 && iy < w.height else { continue }
                                for ox in 0..<outW {
                                    let ix = ox * w.stride + j - w.padding
                                    guard ix >= 0 && ix < w.width else { continue }
                                    sum += grad[oy * outW + ox] * plane[iy * w.width + ix]
                                }
                            }
                        }
                        let index = ((o * w.channels + c) * kh + i) * kw + j
                        dweight[index] = accumulate ? dweight[index] + sum : sum
                    }
                }
            }
        }
    }
}
