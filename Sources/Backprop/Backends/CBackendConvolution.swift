import CKernels

// The direct convolution through CKernels/conv_direct.c (include/backprop_conv.h).
extension CBackend {
    /// True: the direct kernels beat im2col + SGEMM at small channel counts (docs/KERNELS.md).
    public var prefersDirectConvolution: Bool { true }

    // x: (N, C, H, W), weight: (K, C, kh, kw), bias: (K) -> y: (N, K, outH, outW)
    public func conv2dForward(
        _ x: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, y: UnsafeMutablePointer<Float>
    ) {
        var w = window.kernelWindow
        withContext { bp_conv2d_forward($0, x, batch, &w, weight, bias, outChannels, y) }
    }

    // dy: (N, K, outH, outW), weight: (K, C, kh, kw) -> dx: (N, C, H, W)
    public func conv2dBackwardData(
        _ dy: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        outChannels: Int, dx: UnsafeMutablePointer<Float>
    ) {
        var w = window.kernelWindow
        withContext { bp_conv2d_backward_data($0, dy, batch, &w, weight, outChannels, dx) }
    }

    // x: (N, C, H, W), dy: (N, K, outH, outW) -> dweight: (K, C, kh, kw), dbias: (K)
    public func conv2dBackwardWeight(
        _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, window: Window2d,
        outChannels: Int, into dweight: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias dbias: UnsafeMutablePointer<Float>?, accumulateBias: Bool
    ) {
        var w = window.kernelWindow
        withContext {
            bp_conv2d_backward_weight($0, x, dy, batch, &w, outChannels, dweight, accumulate ? 1 : 0,
                                      dbias, accumulateBias ? 1 : 0)
        }
    }
}
