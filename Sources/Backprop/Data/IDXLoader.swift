/// Reader for the IDX format of MNIST (and Fashion-MNIST, KMNIST, ...).
///
/// An IDX file is a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte),
/// the number of dimensions, then one 32-bit size per dimension — followed by the data.
/// Images are 3-D (count, height, width), labels 1-D (count). Files may be gzip-compressed.
public enum IDX {
    /// Images from an IDX3 file, with pixels scaled from 0...255 to [0, 1].
    /// - Returns: pixels as a (count, height × width) tensor, and the image size.
    /// - Throws: ``BackpropError/malformedFile(path:location:message:)`` for a wrong magic
    ///   number, zero or overflowing dimensions, or data that does not match the header.
    public static func loadImages(path: String) throws -> (pixels: Tensor, height: Int, width: Int) {
        try decodeImages(readFileMaybeGzip(path: path, expected: "an IDX image file (magic 0x00000803)"), path: path)
    }

    /// ``loadImages(path:)`` on bytes already read (and inflated); `path` only labels errors.
    static func decodeImages(_ bytes: [UInt8], path: String) throws -> (pixels: Tensor, height: Int, width: Int) {
        let dims = try header(bytes, path: path, dimensions: 3, magic: 0x0000_0803, kind: "image")
        let (count, height, width) = (dims[0], dims[1], dims[2])
        let pixels = Tensor(rows: count, cols: height * width)
        let start = 4 + 4 * 3  // magic + three sizes
        bytes.withUnsafeBufferPointer { src in
            for i in 0..<pixels.count { pixels.data[i] = Float(src[start + i]) / 255 }
        }
        return (pixels, height, width)
    }

    /// Labels from an IDX1 file; each must be below `classCount`.
    /// - Throws: ``BackpropError/malformedFile(path:location:message:)`` for a wrong magic
    ///   number, a count the data does not match, or a label outside `0..<classCount`
    ///   (at its byte offset).
    public static func loadLabels(path: String, classCount: Int = 10) throws -> [Int32] {
        try decodeLabels(readFileMaybeGzip(path: path, expected: "an IDX label file (magic 0x00000801)"),
                         path: path, classCount: classCount)
    }

    /// ``loadLabels(path:classCount:)`` on bytes already read (and inflated); `path` only labels errors.
    static func decodeLabels(_ bytes: [UInt8], path: String, classCount: Int) throws -> [Int32] {
        let count = try header(bytes, path: path, dimensions: 1, magic: 0x0000_0801, kind: "label")[0]
        let start = 8
        if let bad = bytes[start..<(start + count)].firstIndex(where: { Int($0) >= classCount }) {
            throw BackpropError.malformedFile(
                path: path, location: "byte \(bad)",
                message: "label \(bytes[bad]) of item \(bad - start) is outside 0...\(classCount - 1)")
        }
        return bytes[start..<(start + count)].map { Int32($0) }
    }

    /// Validates the header and that the data it promises is exactly the rest of the file.
    /// - Returns: the dimension sizes.
    static func header(_ bytes: [UInt8], path: String, dimensions: Int, magic: UInt32,
                       kind: String) throws -> [Int] {
        let headerSize = 4 + 4 * dimensions
        guard bytes.count >= 4 else {
            throw BackpropError.malformedFile(
                path: path, location: "byte 0",
                message: "file is \(bytes.count) bytes, too short for an IDX magic number")
        }
        let found = bigEndianU32(bytes, at: 0)
        guard found == magic else {
            throw BackpropError.malformedFile(
                path: path, location: "byte 0",
                message: "magic number is \(hex32(found)), expected \(hex32(magic)) for an IDX \(kind) file"
                    + (found == 0x0000_0801 || found == 0x0000_0803 ? " (images and labels swapped?)" : ""))
        }
        guard bytes.count >= headerSize else {
            throw BackpropError.malformedFile(
                path: path, location: "byte \(bytes.count)",
                message: "file ends inside the \(headerSize)-byte header")
        }
        var dims = [Int]()
        var total = 1
        for d in 0..<dimensions {
            let size = Int(bigEndianU32(bytes, at: 4 + 4 * d))
            guard size > 0 else {
                throw BackpropError.malformedFile(
                    path: path, location: "byte \(4 + 4 * d)", message: "dimension \(d) is 0")
            }
            guard let product = CheckedSize.product([total, size]) else {
                throw BackpropError.malformedFile(
                    path: path, location: "byte \(4 + 4 * d)",
                    message: "the dimensions \(dims + [size]) multiply past the largest integer")
            }
            dims.append(size)
            total = product
        }
        let available = bytes.count - headerSize
        guard total <= available else {
            throw BackpropError.malformedFile(
                path: path, location: "byte \(bytes.count)",
                message: "header promises \(dims.map(String.init).joined(separator: "×")) = \(total) bytes "
                    + "of data from byte \(headerSize), but the file ends after \(available); truncated?")
        }
        guard total == available else {
            throw BackpropError.malformedFile(
                path: path, location: "byte \(headerSize + total)",
                message: "\(available - total) unexpected bytes after the \(total) bytes of data the header promises")
        }
        return dims
    }

    private static func bigEndianU32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func hex32(_ x: UInt32) -> String {
        let digits = String(x, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// The MNIST handwritten digits in their original IDX files.
public enum MNIST {
    /// The four standard file names; each may also carry a `.gz` suffix.
    public static let fileNames = (
        trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
        testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")

    /// Loads the training and test sets from `directory`, pixels scaled to [0, 1],
    /// 10 classes, `imageShape` from the files (28 × 28 for MNIST).
    /// - Throws: ``BackpropError/io(path:message:)`` when a file is missing, and
    ///   ``BackpropError/malformedFile(path:location:message:)`` when a file is malformed or
    ///   image and label counts disagree.
    public static func load(directory: String) throws -> (train: Dataset, test: Dataset) {
        let train = try loadPair(directory: directory, images: fileNames.trainImages, labels: fileNames.trainLabels)
        let test = try loadPair(directory: directory, images: fileNames.testImages, labels: fileNames.testLabels)
        if let a = train.imageShape, let b = test.imageShape, a != b {
            throw BackpropError.shapeMismatch(
                "training images in \(directory) are \(a.height)×\(a.width) but test images are \(b.height)×\(b.width)")
        }
        return (train, test)
    }

    /// One images/labels pair as a classification dataset.
    public static func loadPair(imagesPath: String, labelsPath: String) throws -> Dataset {
        let images = try IDX.loadImages(path: imagesPath)
        let labels = try IDX.loadLabels(path: labelsPath)
        guard labels.count == images.pixels.rows else {
            throw BackpropError.malformedFile(
                path: labelsPath, location: "byte 4",
                message: "\(labels.count) labels but \(imagesPath) has \(images.pixels.rows) images")
        }
        return try Dataset(features: images.pixels, labels: labels, classCount: 10,
                           imageShape: (images.height, images.width))
    }

    private static func loadPair(directory: String, images: String, labels: String) throws -> Dataset {
        try loadPair(imagesPath: try locate(directory, images), labelsPath: try locate(directory, labels))
    }

    /// `name` or `name.gz` inside `directory`.
    private static func locate(_ directory: String, _ name: String) throws -> String {
        let plain = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        if fileExists(plain) { return plain }
        if fileExists(plain + ".gz") { return plain + ".gz" }
        throw BackpropError.io(
            path: plain, message: "no such file (nor \(name).gz); expected the MNIST file \(name) in \(directory)")
    }
}
