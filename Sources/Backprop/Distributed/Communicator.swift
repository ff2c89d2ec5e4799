#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A group of cooperating processes ("ranks") that train one model data-parallel: each rank
/// computes gradients on its share of every minibatch, the ranks sum them, and every rank
/// applies the same update.
///
/// ``Trainer`` uses one through `Trainer(…, communicator:)`. Two implementations ship:
/// ``SingleProcessCommunicator`` (one rank; every operation is a no-op) and
/// ``MPICommunicator`` (MPI's `MPI_COMM_WORLD`, for processes started by `mpirun`).
///
/// Every operation is *collective*: all ranks must call it, in the same order, with buffers of
/// the same size, or the group deadlocks. A rank that cannot continue must call ``abort(code:)``,
/// which ends every rank, rather than return or exit on its own.
public protocol Communicator: AnyObject {
    /// This process's index in the group, 0 ..< ``size``. Rank 0 is the one that prints and saves.
    var rank: Int { get }
    /// How many processes the group has (at least 1).
    var size: Int { get }
    /// Replaces `buffer` on every rank with the element-wise sum of all ranks' buffers. Every
    /// rank receives bit-identical sums.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Copies `buffer` from rank `root` into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every rank of the group with exit status `code` (`MPI_Abort`): the way out for a
    /// rank that fails while others may be waiting for it in a collective.
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// True on rank 0, the rank that prints, evaluates and writes files.
    public var isRoot: Bool { rank == 0 }
}

/// The group of one: this process alone. Every collective returns at once with the buffer
/// unchanged, so code written for a ``Communicator`` also runs without MPI.
public final class SingleProcessCommunicator: Communicator {
    /// The communicator of a process that trains alone.
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard root == 0 else { throw BackpropError.invalidArgument("broadcast root \(root) is not a rank of a one-process group") }
    }
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}
