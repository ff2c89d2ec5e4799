import Foundation

/// Datasets shipped inside the package, so examples and tests run without downloads.
public enum BuiltinDatasets {
    /// The UCI optical digits: 1797 samples of 8 × 8 images, 64 features with raw values
    /// 0...16 (not normalized; see ``Normalizer``), 10 classes.
    /// - Throws: ``BackpropError/io(path:message:)`` if the resource is missing from the bundle.
    public static func digits() throws -> Dataset {
        guard let path = Bundle.module.path(forResource: "digits.csv", ofType: "gz") else {
            throw BackpropError.io(path: "digits.csv.gz",
                                   message: "resource missing from the Backprop bundle; rebuild the package")
        }
        return try CSV.load(path: path, labelColumn: .index(-1), targets: .labels, header: false,
                            imageShape: (8, 8))
    }
}
