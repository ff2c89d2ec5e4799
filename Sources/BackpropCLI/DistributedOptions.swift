#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Backprop

/// `train --distributed`: data-parallel training on the ranks `mpirun` started.
struct DistributedOptions: ParsableArguments {
    @Flag(help: ArgumentHelp(
        "Train data-parallel on every rank started by mpirun (Open MPI): mpirun -np 2 backprop train --distributed …. Each rank computes part of every minibatch; rank 0 alone prints, evaluates and saves. See docs/DISTRIBUTED.md."))
    var distributed = false

    /// Without `--threads` or a thread variable, each rank gets an equal share of this
    /// machine's cores instead of all of them (nil: keep the usual default).
    func threadsPerRank(environment: [String: String] = ProcessEnvironment.current,
                        mpi: [String: String] = MPIEnvironment.current) -> Int? {
        guard distributed else { return nil }
        return sharedCores(environment: environment, mpi: mpi)
    }

    /// Runs `body` with this process alone, or with `--distributed` on every MPI rank (see
    /// ``runOnRanks(distributed:_:)``).
    func run(_ body: (any Communicator) throws -> Void) throws {
        try runOnRanks(distributed: distributed, body)
    }
}

/// This machine's cores divided among the ranks mpirun started on it, unless a thread
/// variable says otherwise (then nil).
func sharedCores(environment: [String: String] = ProcessEnvironment.current,
                 mpi: [String: String] = MPIEnvironment.current) -> Int? {
    guard environment[ProcessEnvironment.threadsVariable] == nil,
          environment[ProcessEnvironment.ompThreadsVariable] == nil else { return nil }
    return max(1, ThreadSettings.activeCores / MPIEnvironment.localRanks(mpi))
}

/// Runs `body` with the communicator to work with: this process alone, or when `distributed`
/// every rank of `MPI_COMM_WORLD`. Under MPI a failing rank ends the whole job (`MPI_Abort`)
/// after printing its error, so no rank is left waiting for it.
func runOnRanks(distributed: Bool, _ body: (any Communicator) throws -> Void) throws {
    guard distributed else { return try body(SingleProcessCommunicator()) }
    let mpi = MPIEnvironment.current
    do {
        try MPICommunicator.checkLibrary(environment: mpi)
    } catch BackpropError.communication(let reason) {
        throw CLIError("--distributed needs Open MPI: \(reason); then start the ranks with `mpirun -np 2 backprop train --distributed …`")
    }
    guard MPIEnvironment.launchedByMPI(mpi) else {
        throw CLIError("--distributed needs processes started by mpirun: run `mpirun -np 2 backprop train --distributed …` "
            + "(as root add --allow-run-as-root), or drop --distributed to train in this process alone")
    }
    let world = try MPICommunicator(environment: mpi)
    do {
        try body(world)
        try world.barrier()
        try world.finalize()
    } catch let code as ExitCode {
        // Interrupted: every rank stopped at the same step (see Trainer.shouldStop).
        try? world.finalize()
        throw code
    } catch {
        fail(with: error, world: world)
    }
}

/// Prints `error` once for the job and ends every rank. An error every rank throws alike
/// (ranks that disagree, a diverged loss: both decided after an all-reduce) is printed by
/// rank 0 alone; the others wait for its `MPI_Abort`, and print only if it never comes.
private func fail(with error: any Error, world: MPICommunicator) -> Never {
    let collective: Bool
    switch error {
    case BackpropError.communication, BackpropError.diverged: collective = true
    default: collective = false
    }
    if collective && !world.isRoot {
        // mpirun ends the other ranks with SIGTERM: let it, instead of stopping training politely.
        signal(SIGTERM, SIG_DFL)
        var left = rootAbortGraceSeconds
        while left > 0 { left = sleep(left) }
    }
    writeStderr("error: rank \(world.rank) of \(world.size): \(String(describing: error))\n")
    world.abort(code: 1)
}

/// How long a rank waits for rank 0 to end the job for an error they share.
private let rootAbortGraceSeconds: UInt32 = 10
