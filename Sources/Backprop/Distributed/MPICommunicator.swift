#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ranks of `MPI_COMM_WORLD`: every process `mpirun` started, on one machine or many.
///
/// ```swift
/// let world = try MPICommunicator()          // MPI_Init_thread; throws outside mpirun
/// let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1),
///                       backend: backend, seed: 1, communicator: world)
/// do { try trainer.fit(train, epochs: 5, batchSize: 64) } catch { world.abort(code: 1) }
/// try world.finalize()                       // MPI_Finalize, once, on every rank
/// ```
///
/// libmpi (Open MPI 3 or later) is loaded at run time (see ``MPILibrary``), so programs build
/// and run without MPI until they create one. MPI errors use MPI's default handler,
/// `MPI_ERRORS_ARE_FATAL`: a failing collective ends the whole job instead of leaving the
/// other ranks waiting. Call MPI from one thread only (`MPI_THREAD_FUNNELED`).
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    /// What `MPI_Get_library_version` says, e.g. `Open MPI v4.1.4, package: Debian OpenMPI, …`.
    public let libraryVersion: String
    private let mpi: MPILibrary

    /// Joins `MPI_COMM_WORLD`, initializing MPI if it is not yet.
    ///
    /// - Throws: ``BackpropError/communication(_:)`` when libmpi cannot be loaded (not installed,
    ///   or not Open MPI), when the process was not started by an MPI launcher such as `mpirun`,
    ///   or when MPI was already finalized.
    public init(environment: [String: String] = MPIEnvironment.current) throws {
        mpi = try MPILoader.load(environment: environment).get()
        guard MPIEnvironment.launchedByMPI(environment) else {
            throw BackpropError.communication(
                "this process was not started by mpirun (none of \(MPIEnvironment.launcherVariables.joined(separator: ", ")) is set); "
                    + "start every rank with it, e.g. `mpirun -np 2 <program> …`")
        }
        var flag: Int32 = 0
        _ = mpi.finalized(&flag)
        guard flag == 0 else { throw BackpropError.communication("MPI was already finalized in this process") }
        _ = mpi.initialized(&flag)
        if flag == 0 {
            var provided: Int32 = 0
            let status = mpi.initThread(nil, nil, MPILibrary.threadFunneled, &provided)
            guard status == 0 else { throw BackpropError.communication("MPI_Init_thread failed with error \(status)") }
        }
        var value: Int32 = 0
        _ = mpi.commRank(mpi.commWorld, &value)
        rank = Int(value)
        _ = mpi.commSize(mpi.commWorld, &value)
        size = Int(value)
        var text = [CChar](repeating: 0, count: MPILibrary.maxVersionLength + 1)
        var length: Int32 = 0
        _ = mpi.libraryVersion(&text, &length)
        libraryVersion = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: "\n").first.map(String.init) ?? "MPI"
    }

    /// Checks that libmpi can be loaded, without initializing MPI: the library half of what
    /// ``init(environment:)`` needs (the other half is being started by `mpirun`).
    /// - Throws: ``BackpropError/communication(_:)`` saying why, and how to install Open MPI.
    public static func checkLibrary(environment: [String: String] = MPIEnvironment.current) throws {
        _ = try MPILoader.load(environment: environment).get()
    }

    // MPI counts are C ints: larger buffers go in chunks of at most Int32.max elements.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress else { return }
        for start in stride(from: 0, to: buffer.count, by: Int(Int32.max)) {
            let count = Int32(min(Int(Int32.max), buffer.count - start))
            try check(mpi.allreduce(MPILibrary.inPlace, base + start, count, mpi.float, mpi.sum, mpi.commWorld),
                      "MPI_Allreduce")
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard (0..<size).contains(root) else {
            throw BackpropError.invalidArgument("broadcast root \(root) is not a rank of this \(size)-process group")
        }
        guard let base = buffer.baseAddress else { return }
        for start in stride(from: 0, to: buffer.count, by: Int(Int32.max)) {
            let count = Int32(min(Int(Int32.max), buffer.count - start))
            try check(mpi.bcast(base + start, count, mpi.byte, Int32(root), mpi.commWorld), "MPI_Bcast")
        }
    }

    public func barrier() throws {
        try check(mpi.barrier(mpi.commWorld), "MPI_Barrier")
    }

    public func abort(code: Int32) -> Never {
        fflush(nil)
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)  // MPI_Abort does not return; this is for a broken MPI that does.
    }

    /// Leaves MPI (`MPI_Finalize`), collectively: every rank calls it once, after its last
    /// collective. Later calls do nothing.
    public func finalize() throws {
        var flag: Int32 = 0
        _ = mpi.finalized(&flag)
        guard flag == 0 else { return }
        try check(mpi.finalize(), "MPI_Finalize")
    }

    private func check(_ status: Int32, _ call: String) throws {
        guard status == 0 else { throw BackpropError.communication("\(call) failed with MPI error \(status) on rank \(rank)") }
    }
}
