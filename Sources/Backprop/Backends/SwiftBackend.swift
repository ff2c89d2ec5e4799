/// The reference backend: pure Swift, single-threaded, no SIMD intrinsics.
///
/// Every operation is the protocol's default implementation in `ReferenceOps.swift`, so this
/// type is the oracle the other backends are tested against.
public final class SwiftBackend: Backend {
    public let name = "swift"
    public var detail: String { "pure Swift reference, 1 thread" }
    /// The reference backend (it has no settings).
    public init() {}
}
