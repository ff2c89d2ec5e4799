#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The Open MPI entry points and predefined handles Backprop uses, resolved at run time with
/// `dlopen`/`dlsym`.
///
/// Why `dlopen` and not a package trait that links libmpi: the package must build with no MPI
/// headers (Open MPI keeps `mpi.h` outside the default include path, so a linked target would
/// need pkg-config or `unsafeFlags`), and one `backprop` binary must run on machines with and
/// without MPI; a linked binary would not even start without `libmpi.so.40`. This is the same
/// choice as the `openblas` backend.
///
/// Open MPI's handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, …) are not integers but the
/// addresses of exported objects (`mpi.h`: `#define MPI_COMM_WORLD ((MPI_Comm) &ompi_mpi_comm_world)`),
/// so `dlsym` of those names gives the handles themselves. MPICH's integer handles differ;
/// it is refused with a clear message.
struct MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    // int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
    typealias InitThreadFunction = @convention(c) (
        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
        Int32, UnsafeMutablePointer<Int32>?) -> Int32
    // int MPI_Initialized(int *flag), MPI_Finalized(int *flag)
    typealias FlagFunction = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
    // int MPI_Finalize(void)
    typealias FinalizeFunction = @convention(c) () -> Int32
    // int MPI_Comm_rank(MPI_Comm, int *), MPI_Comm_size(MPI_Comm, int *)
    typealias CommQueryFunction = @convention(c) (Handle?, UnsafeMutablePointer<Int32>?) -> Int32
    // int MPI_Allreduce(const void *send, void *recv, int count, MPI_Datatype, MPI_Op, MPI_Comm)
    typealias AllreduceFunction = @convention(c) (
        UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle?, Handle?, Handle?) -> Int32
    // int MPI_Bcast(void *buffer, int count, MPI_Datatype, int root, MPI_Comm)
    typealias BcastFunction = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle?, Int32, Handle?) -> Int32
    // int MPI_Barrier(MPI_Comm)
    typealias BarrierFunction = @convention(c) (Handle?) -> Int32
    // int MPI_Abort(MPI_Comm, int errorcode)
    typealias AbortFunction = @convention(c) (Handle?, Int32) -> Int32
    // int MPI_Get_library_version(char *version, int *resultlen)
    typealias LibraryVersionFunction = @convention(c) (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32

    /// `MPI_THREAD_FUNNELED` (mpi.h's enum: SINGLE 0, FUNNELED 1): only the main thread calls
    /// MPI, while the C kernels may run OpenMP threads.
    static let threadFunneled: Int32 = 1
    /// `MPI_IN_PLACE`, `((void *) 1)` in Open MPI's mpi.h.
    static var inPlace: UnsafeRawPointer { UnsafeRawPointer(bitPattern: 1)! }
    /// Open MPI's `MPI_MAX_LIBRARY_VERSION_STRING`.
    static let maxVersionLength = 256

    /// The file that was loaded, as passed to `dlopen`.
    let path: String
    let initThread: InitThreadFunction
    let initialized: FlagFunction
    let finalized: FlagFunction
    let finalize: FinalizeFunction
    let commRank: CommQueryFunction
    let commSize: CommQueryFunction
    let allreduce: AllreduceFunction
    let bcast: BcastFunction
    let barrier: BarrierFunction
    let abort: AbortFunction
    let libraryVersion: LibraryVersionFunction
    /// `MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_BYTE`, `MPI_SUM`.
    let commWorld: Handle
    let float: Handle
    let byte: Handle
    let sum: Handle
}

/// Finds and opens Open MPI's `libmpi`.
enum MPILoader {
    /// Tried in order when `BACKPROP_MPI_LIBRARY` is not set: Open MPI 3/4/5's soname, then the
    /// development symlink.
    static let defaultCandidates = ["libmpi.so.40", "libmpi.so"]

    /// Appended to every reason MPI cannot be used.
    static let installHint = "install Open MPI with `apt-get install openmpi-bin libopenmpi-dev`"

    /// Opens libmpi and resolves its entry points, or returns why it cannot be used.
    ///
    /// `BACKPROP_MPI_LIBRARY` replaces the candidate names with one path (also how tests play a
    /// machine without MPI). The library is opened `RTLD_GLOBAL`: Open MPI's plugins (its MCA
    /// components, themselves `dlopen`ed) resolve symbols of libmpi and libopen-pal through the
    /// global namespace. The handle is never closed.
    static func load(environment: [String: String]) -> Result<MPILibrary, BackpropError> {
        let override = environment[MPIEnvironment.libraryVariable] ?? ""
        let candidates = override.isEmpty ? defaultCandidates : [override]
        var errors: [String] = []
        for candidate in candidates {
            guard let handle = dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) else {
                errors.append(dlerror().map { String(cString: $0) } ?? "\(candidate): cannot open")
                continue
            }
            return resolve(handle: handle, path: candidate)
        }
        return .failure(.communication("MPI not found (\(errors.joined(separator: "; "))); \(installHint)"))
    }

    private static func resolve(handle: UnsafeMutableRawPointer, path: String) -> Result<MPILibrary, BackpropError> {
        func function<F>(_ name: String, as type: F.Type) -> F? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let initThread = function("MPI_Init_thread", as: MPILibrary.InitThreadFunction.self),
              let initialized = function("MPI_Initialized", as: MPILibrary.FlagFunction.self),
              let finalized = function("MPI_Finalized", as: MPILibrary.FlagFunction.self),
              let finalize = function("MPI_Finalize", as: MPILibrary.FinalizeFunction.self),
              let commRank = function("MPI_Comm_rank", as: MPILibrary.CommQueryFunction.self),
              let commSize = function("MPI_Comm_size", as: MPILibrary.CommQueryFunction.self),
              let allreduce = function("MPI_Allreduce", as: MPILibrary.AllreduceFunction.self),
              let bcast = function("MPI_Bcast", as: MPILibrary.BcastFunction.self),
              let barrier = function("MPI_Barrier", as: MPILibrary.BarrierFunction.self),
              let abort = function("MPI_Abort", as: MPILibrary.AbortFunction.self),
              let libraryVersion = function("MPI_Get_library_version", as: MPILibrary.LibraryVersionFunction.self)
        else {
            return .failure(.communication("\(path) is not an MPI library (MPI_* entry points are missing); \(installHint)"))
        }
        guard let commWorld = dlsym(handle, "ompi_mpi_comm_world"), let float = dlsym(handle, "ompi_mpi_float"),
              let byte = dlsym(handle, "ompi_mpi_byte"), let sum = dlsym(handle, "ompi_mpi_op_sum")
        else {
            return .failure(.communication(
                "\(path) is not Open MPI (its ompi_mpi_* handles are missing; MPICH and others are not supported); \(installHint)"))
        }
        return .success(MPILibrary(
            path: path, initThread: initThread, initialized: initialized, finalized: finalized, finalize: finalize,
            commRank: commRank, commSize: commSize, allreduce: allreduce, bcast: bcast, barrier: barrier,
            abort: abort, libraryVersion: libraryVersion, commWorld: commWorld, float: float, byte: byte, sum: sum))
    }
}
