import Foundation
import Testing
@testable import Backprop

/// A process killed while it saves leaves the old checkpoint or the new one, never half a file.
@Suite struct AtomicWriteTests {
    /// Starts `backprop train --save m.safetensors` with a 9 MB model, waits until its temporary
    /// file appears (the save is under way), SIGKILLs it, and checks that m.safetensors still
    /// loads, as the previous model or the new one. Repeats, since a kill can land before or
    /// after the rename; at least one kill must have hit a running save.
    @Test func sigkillDuringSaveLeavesTheOldOrTheNewFile() throws {
        let dir = try CLITests.temporaryDirectory()
        let small = try CLITests.run(["train", "--dataset", "xor", "--epochs", "1", "--save", "m.safetensors", "--quiet"],
                                     in: dir)
        #expect(small.status == 0, "\(small.stderr)")
        let old = "dense:2:8,tanh,dense:8:2", new = "dense:2:1500,relu,dense:1500:1500,relu,dense:1500:2"
        var killedMidSave = 0
        for _ in 0..<8 {
            let (process, _, _) = try CLITests.makeProcess(
                ["train", "--dataset", "xor", "--layers", "2,1500,1500,2", "--activation", "relu", "--epochs", "1",
                 "--backend", "c", "--save", "m.safetensors", "--quiet"], directory: dir)
            try process.run()
            while process.isRunning, !temporaryFiles(in: dir).contains(where: { $0.hasPrefix(".m.safetensors.tmp-") }) {
                usleep(200)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedMidSave += 1 }
            let checkpoint = try ModelCheckpoint.load(from: dir + "/m.safetensors")
            let architecture = try Architecture.describe(checkpoint.model)
            #expect(architecture == old || architecture == new, "\(architecture)")
            // What a kill leaves behind is only the temporary file, never a damaged target.
            for leftover in temporaryFiles(in: dir) where leftover.hasPrefix(".m.safetensors.tmp-") {
                try FileManager.default.removeItem(atPath: dir + "/" + leftover)
            }
        }
        #expect(killedMidSave >= 1, "no kill landed while the save was running")
    }

    private func temporaryFiles(in dir: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    }
}
