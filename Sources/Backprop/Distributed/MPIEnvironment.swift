#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment variables that concern MPI: Backprop's own library override and the ones
/// an MPI launcher sets in every process it starts.
public enum MPIEnvironment {
    /// A path or file name that replaces the default `libmpi.so.40`, `libmpi.so`.
    public static let libraryVariable = "BACKPROP_MPI_LIBRARY"
    /// Set by a launcher in each process it starts: Open MPI's `mpirun` (`OMPI_COMM_WORLD_*`),
    /// PMIx launchers such as `srun --mpi=pmix` (`PMIX_RANK`) and PMI-1/2 launchers (`PMI_RANK`).
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"]

    /// How many ranks `mpirun` started on this machine.
    public static let localSizeVariable = "OMPI_COMM_WORLD_LOCAL_SIZE"

    /// Every variable read here.
    public static let variables = [libraryVariable, localSizeVariable] + launcherVariables

    /// Ranks on this machine (1 when the launcher does not say), to share its cores among them.
    public static func localRanks(_ environment: [String: String]) -> Int {
        max(1, Int(environment[localSizeVariable] ?? "") ?? 1)
    }

    /// Whether this process was started by an MPI launcher (one of ``launcherVariables`` is set).
    public static func launchedByMPI(_ environment: [String: String]) -> Bool {
        launcherVariables.contains { environment[$0] != nil }
    }

    /// The values of ``variables`` that are set in this process.
    public static var current: [String: String] {
        var values: [String: String] = [:]
        for name in variables {
            if let value = getenv(name) { values[name] = String(cString: value) }
        }
        return values
    }
}
