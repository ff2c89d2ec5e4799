/// The first layer's weights drawn as images: for an image input, hidden unit j's weights
/// (column j of W, stored (inputs, outputs)) reshaped to (height, width) show the template
/// the unit responds to.
enum WeightTiles {
    /// One `<figure class="tile">` per hidden unit, each an embedded PNG with a diverging color
    /// scale (blue negative, white zero, red positive) symmetric around 0 and scaled to the
    /// tile's own largest |w|, so every template uses the full range.
    /// w: (height · width, units).
    static func html(_ w: Tensor, height: Int, width: Int) -> String {
        precondition(w.rows == height * width, "weights (\(w.rows), \(w.cols)) do not fit \(height)×\(width) images")
        // Scale tiles to about 72 px on their longer side; pixelated CSS keeps the pixels sharp.
        let scale = max(2, Int((72.0 / Double(max(height, width))).rounded()))
        var html = ""
        for unit in 0..<w.cols {
            let column = (0..<w.rows).map { w[$0, unit] }
            let largest = column.map { abs($0) }.max() ?? 0
            var rgb = [UInt8]()
            rgb.reserveCapacity(column.count * 3)
            for value in column {
                let (r, g, b) = divergingColor(largest > 0 ? value / largest : 0)
                rgb += [r, g, b]
            }
            let png = PNGImage.encode(rgb: rgb, width: width, height: height)
            let tip = "unit \(unit): max |w| = \(formatFixed(Double(largest), decimals: 3))"
            html += "<figure class=\"tile\" title=\"\(escapeHTML(tip))\">"
                + "<img alt=\"\(escapeHTML(tip))\" width=\"\(width * scale)\" height=\"\(height * scale)\" "
                + "src=\"data:image/png;base64,\(base64Encoded(png))\">"
                + "<figcaption>\(unit)</figcaption></figure>"
        }
        return html
    }

    /// t in [−1, 1] -> RGB: −1 is blue (33, 102, 172), 0 is near-white (247, 247, 247),
    /// +1 is red (178, 24, 43), linear in between (the ends of ColorBrewer's RdBu).
    static func divergingColor(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let t = t.isFinite ? min(max(t, -1), 1) : 0
        let white: (Float, Float, Float) = (247, 247, 247)
        let end: (Float, Float, Float) = t < 0 ? (33, 102, 172) : (178, 24, 43)
        let a = abs(t)
        func mix(_ from: Float, _ to: Float) -> UInt8 { UInt8((from + (to - from) * a).rounded()) }
        return (mix(white.0, end.0), mix(white.1, end.1), mix(white.2, end.2))
    }
}

extension HTMLReport {
    /// What a report draws as the first layer's tiles, for `model`: the weights as
    /// (pixels per tile, tiles) with the tile shape, to pass as `firstLayerWeights` and
    /// `imageShape` to ``render(title:history:evaluation:classNames:firstLayerWeights:imageShape:summary:)``.
    ///
    /// The first ``Conv2d`` or ``Dense`` layer counts, looking inside nested ``Sequential``s. A
    /// convolution gives one k×k tile per filter, from its first input channel: column o is
    /// weight[o, 0, :, :] (W is (out, in, k, k)). A dense layer gives one tile per hidden unit,
    /// its W (inputs, outputs) as is, drawn as `imageShape` when that holds the inputs.
    /// Returns nil when the network has neither.
    public static func firstLayerTiles(
        of model: Sequential, imageShape: (height: Int, width: Int)?
    ) -> (weights: Tensor, tileShape: (height: Int, width: Int)?)? {
        for layer in model.layers {
            if let inner = layer as? Sequential, let tiles = firstLayerTiles(of: inner, imageShape: imageShape) {
                return tiles
            }
            if let conv = layer as? Conv2d {
                let k = conv.kernelSize, perFilter = conv.inChannels * k * k
                // W: (out, in, k, k) -> tiles: (k·k, out), channel 0 of each filter
                let tiles = Tensor(rows: k * k, cols: conv.outChannels)
                for o in 0..<conv.outChannels {
                    for p in 0..<(k * k) { tiles[p, o] = conv.weight.value.data[o * perFilter + p] }
                }
                return (tiles, (k, k))
            }
            if let dense = layer as? Dense { return (dense.weight.value, imageShape) }
        }
        return nil
    }
}
