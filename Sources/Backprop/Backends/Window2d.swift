/// The geometry of a 2-D sliding window over one (C, H, W) sample: a convolution's patches or a
/// pooling window. Output size per axis: ⌊(in + 2·padding − kernel) / stride⌋ + 1, as PyTorch.
public struct Window2d: Sendable, Equatable, CustomStringConvertible {
    /// Input channels (planes per sample).
    public var channels: Int
    /// Input height H.
    public var height: Int
    /// Input width W.
    public var width: Int
    /// Kernel height kh.
    public var kernelHeight: Int
    /// Kernel width kw.
    public var kernelWidth: Int
    /// The step between window positions, the same on both axes.
    public var stride: Int
    /// Zeros added on every side of the input, the same on both axes.
    public var padding: Int

    /// A window of the given kernel over a (channels, height, width) sample.
    ///
    /// - Precondition: sizes positive, padding non-negative (checked by the layers before this).
    public init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int = 1, padding: Int = 0) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    /// ⌊(height + 2·padding − kernelHeight) / stride⌋ + 1.
    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    /// ⌊(width + 2·padding − kernelWidth) / stride⌋ + 1.
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of an im2col matrix: C·kh·kw.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of an im2col matrix: outH·outW.
    public var outPositions: Int { outHeight * outWidth }
    /// True when the window fits the padded input at least once.
    public var fits: Bool {
        height + 2 * padding >= kernelHeight && width + 2 * padding >= kernelWidth
    }

    /// E.g. `1x28x28 k5x5 s1 p2`.
    public var description: String {
        "\(channels)x\(height)x\(width) k\(kernelHeight)x\(kernelWidth) s\(stride) p\(padding)"
    }
}
