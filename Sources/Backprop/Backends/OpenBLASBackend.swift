import Synchronization

/// GEMM through OpenBLAS's `cblas_sgemm`; every other op forwarded to the C kernels (a
/// ``ForwardingBackend`` over a ``CBackend``, so no op can fall back to the Swift reference).
///
/// OpenBLAS is loaded at run time (see `OpenBLASLoader`), so this type exists on every
/// machine; its initializer throws ``BackpropError/backendUnavailable(name:reason:)`` where
/// the library is missing. OpenBLAS and the delegate get the same thread count, so their
/// threads never oversubscribe the cores.
public final class OpenBLASBackend: ForwardingBackend, @unchecked Sendable {
    // @unchecked: the stored properties are constants; OpenBLAS calls are serialized by libraryLock.
    /// "openblas".
    override public var name: String { "openblas" }
    /// The OpenBLAS build, the thread count and the backend that runs the non-GEMM ops.
    override public var detail: String { summaryLine }
    /// The number of threads OpenBLAS uses for each GEMM.
    public let threads: Int
    /// Runs every op except GEMM: softmax, activations, losses, optimizer updates (the base).
    public var elementwise: any Backend { base }
    private let library: OpenBLASLibrary
    private let summaryLine: String

    /// Loads OpenBLAS and sets its thread count.
    /// - Parameter threads: threads for OpenBLAS and the delegate; nil resolves it with
    ///   ``ThreadSettings/resolve(_:environment:)`` (`BACKPROP_NUM_THREADS`, `OMP_NUM_THREADS`, cores).
    /// - Throws: ``BackpropError/backendUnavailable(name:reason:)`` without OpenBLAS (the reason
    ///   says how to install it); ``BackpropError/invalidArgument(_:)`` for a bad thread count.
    public convenience init(threads: Int? = nil) throws {
        try self.init(threads: threads, environment: ProcessEnvironment.current)
    }

    /// Like ``init(threads:)``, reading the environment variables from `environment`.
    public init(threads: Int?, environment: [String: String]) throws {
        let resolved = try ThreadSettings.resolve(threads, environment: environment)
        let library: OpenBLASLibrary
        switch OpenBLASLoader.load(environment: environment) {
        case .failure(let failure):
            throw BackpropError.backendUnavailable(name: "openblas", reason: failure.reason)
        case .success(let loaded):
            library = loaded
        }
        OpenBLASBackend.libraryLock.withLock { _ in library.setNumThreads(Int32(clamping: resolved)) }
        self.library = library
        self.threads = resolved
        let elementwise = CBackend(threads: resolved, simd: try SIMDLevel.resolve(environment: environment))
        summaryLine = "\(library.config), \(resolved) thread\(resolved == 1 ? "" : "s"); "
            + "other ops on the \(elementwise.name) backend (\(elementwise.detail))"
        super.init(wrapping: elementwise)
    }

    /// False: `Conv2d` runs im2col + OpenBLAS's GEMM here, not the C kernels' direct convolution.
    override public var prefersDirectConvolution: Bool { false }

    // op(A): (m, k), op(B): (k, n) -> C: (m, n)
    override public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            // C = beta · C. cblas would also do this, but its argument checks reject lda = 0,
            // which is legal here when A has no columns; beta == 0 overwrites without reading C.
            scaleRows(c, rows: m, cols: n, ldc: ldc, beta: beta)
            return
        }
        // cblas requires ld >= max(1, stored width) even for a matrix of one row, where the
        // leading dimension is never used; the protocol does not, so widen it there.
        let aLead = leadingDimension(lda, storedRows: transA ? k : m, width: transA ? m : k, "lda")
        let bLead = leadingDimension(ldb, storedRows: transB ? n : k, width: transB ? k : n, "ldb")
        let cLead = leadingDimension(ldc, storedRows: m, width: n, "ldc")
        precondition(max(m, n, k, aLead, bLead, cLead) <= Int(Int32.max),
                     "gemm sizes exceed OpenBLAS's 32-bit integers: m \(m), n \(n), k \(k)")
        // The thread count is this instance's, but OpenBLAS (0.3.21, as Debian ships it) keeps
        // one count and one thread pool per process and has no per-call or per-thread setting.
        // So GEMMs through OpenBLAS take turns, each setting its own count first: the lock
        // guards OpenBLAS's global, not one of Backprop's (the C kernels have none), and also
        // keeps two concurrent GEMMs from oversubscribing the cores.
        Self.libraryLock.withLock { _ in
            if library.getNumThreads() != Int32(clamping: threads) {
                library.setNumThreads(Int32(clamping: threads))
            }
            library.sgemm(
                OpenBLASLibrary.rowMajor,
                transA ? OpenBLASLibrary.transpose : OpenBLASLibrary.noTranspose,
                transB ? OpenBLASLibrary.transpose : OpenBLASLibrary.noTranspose,
                Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(aLead), b, Int32(bLead),
                beta, c, Int32(cLead))
        }
    }

    /// Serializes every call into OpenBLAS in this process.
    private static let libraryLock = Mutex<Void>(())

    /// The thread count OpenBLAS holds now (global to the process).
    var libraryThreads: Int { Self.libraryLock.withLock { _ in Int(library.getNumThreads()) } }

    /// C: (rows, cols) with leading dimension ldc: C = beta · C, not reading C when beta == 0.
    private func scaleRows(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ldc: Int, beta: Float) {
        if beta == 1 { return }
        for i in 0..<rows {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: cols)
            } else {
                for j in 0..<cols { row[j] *= beta }
            }
        }
    }

    /// The leading dimension to pass to cblas for a stored (storedRows, width) matrix.
    private func leadingDimension(_ ld: Int, storedRows: Int, width: Int, _ label: String) -> Int {
        precondition(storedRows <= 1 || ld >= width,
                     "\(label) \(ld) is smaller than the row width \(width)")
        return max(ld, width, 1)
    }
}
