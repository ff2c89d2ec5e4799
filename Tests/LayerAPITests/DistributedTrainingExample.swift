import Backprop
import Foundation
import Testing

// The example of the DocC article "Distributed training" (Sources/Backprop/Backprop.docc/
// DistributedTraining.md), word for word between the markers (scripts/check-docs compares
// them). Under mpirun `world` is `try MPICommunicator()`; the test runs it on one rank.

// BEGIN DistributedTraining.md
/// Trains one model data-parallel on every rank of `world`; rank 0 saves it.
func trainDataParallel(_ train: Dataset, world: any Communicator, path: String) throws {
    let model = Sequential(seed: 1) { Dense(64, 32); ReLU(); Dense(32, 10) }  // same seed on every rank
    let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1),
                          backend: try defaultBackend(), seed: 2, communicator: world)
    do {
        try trainer.fit(train, epochs: 5, batchSize: 64)  // 64 rows per step in all, split over the ranks
        if world.isRoot { try trainer.save(to: path) }
        try world.barrier()
    } catch {
        print("error: rank \(world.rank) of \(world.size): \(error)")
        world.abort(code: 1)  // MPI_Abort: ends every rank, so none waits forever in a collective
    }
}
// END DistributedTraining.md

@Suite struct DistributedTrainingExampleTests {
    @Test func theArticlesFunctionTrainsOnOneRankAndSaves() throws {
        let path = TestScratch.file("dp.safetensors")
        let digits = try BuiltinDatasets.digits()
        let scaled = try Normalizer(fitting: .scale, to: digits.features).apply(to: digits)
        try trainDataParallel(scaled, world: SingleProcessCommunicator(), path: path)
        let saved = try ModelCheckpoint.load(from: path)
        #expect(saved.trainingState?.epochsCompleted == 5)
        #expect(try Architecture.describe(saved.model) == "dense:64:32,relu,dense:32:10")
    }
}
