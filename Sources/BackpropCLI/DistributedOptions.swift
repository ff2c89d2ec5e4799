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
        guard distributed, environment[ProcessEnvironment.threadsVariable] == nil,
              environment[ProcessEnvironment.ompThreadsVariable] == nil else { return nil }
        return max(1, ThreadSettings.activeCores / MPIEnvironment.localRanks(mpi))
    }

    /// Runs `body` with the communicator to train with: this process alone, or with
    /// `--distributed` every rank of `MPI_COMM_WORLD`. Under MPI a failing rank ends the whole
    /// job (`MPI_Abort`) after printing its error, so no rank is left waiting for it.
    func run(_ body: (any Communicator) throws -> Void) throws {
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
            writeStderr("error: rank \(world.rank) of \(world.size): \(String(describing: error))\n")
            world.abort(code: 1)
        }
    }
}
