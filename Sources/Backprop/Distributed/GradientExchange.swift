/// The data-parallel part of a ``Trainer`` step on more than one rank: which rows of the global
/// minibatch this rank computes, and one all-reduce that sums every rank's gradients together
/// with the step's totals.
///
/// The buffer is flattened and allocated once, so a step allocates nothing:
///
///     [ grad of parameter 0 | grad of parameter 1 | … | loss share | correct | stop votes ]
///
/// Each rank scales its output gradient by (its rows) / (global rows) before backward, so the
/// sum over ranks is the gradient of the global mean loss, as one process with the whole batch.
final class GradientExchange {
    let communicator: any Communicator
    private let parameters: [Parameter]
    private let buffer: UnsafeMutableBufferPointer<Float>
    private let gradientCount: Int
    /// True after a step in which any rank asked to stop (see ``Trainer/shouldStop``).
    private(set) var stopAgreed = false

    init(communicator: any Communicator, parameters: [Parameter]) {
        self.communicator = communicator
        self.parameters = parameters
        gradientCount = parameters.reduce(0) { $0 + $1.grad.count }
        buffer = .allocate(capacity: gradientCount + 3)
        buffer.initialize(repeating: 0)
    }

    deinit { buffer.deallocate() }

    /// This rank's rows of a global minibatch: a contiguous part, the parts' sizes differing by
    /// at most one (7 rows on 3 ranks: 2, 2, 3). Empty when the batch has fewer rows than ranks.
    func shard(of batch: ArraySlice<Int>) -> ArraySlice<Int> {
        let count = batch.count, rank = communicator.rank, size = communicator.size
        let lower = batch.startIndex + count * rank / size
        let upper = batch.startIndex + count * (rank + 1) / size
        return batch[lower..<upper]
    }

    /// The factor that turns this rank's mean loss (and its gradient) over `localRows` into its
    /// share of the mean over `globalRows`; 1 for a summed loss.
    func globalShare(of loss: Loss, localRows: Int, globalRows: Int) -> Double {
        loss.reduction == .sum ? 1 : Double(localRows) / Double(globalRows)
    }

    /// Sums every rank's parameter gradients (a parameter this rank did not compute, because
    /// its shard was empty, counts as zero) and the step's loss share, correct predictions and
    /// stop votes, with one all-reduce; writes the summed gradients back.
    /// - Returns: the global batch loss and correct count.
    func sum(lossShare: Double, correct: Int, stopVote: Bool) throws -> (loss: Double, correct: Int) {
        var offset = 0
        for p in parameters {
            if p.gradIsZero {
                (buffer.baseAddress! + offset).update(repeating: 0, count: p.grad.count)
            } else {
                (buffer.baseAddress! + offset).update(from: p.grad.data, count: p.grad.count)
            }
            offset += p.grad.count
        }
        buffer[gradientCount] = Float(lossShare)
        buffer[gradientCount + 1] = Float(correct)
        buffer[gradientCount + 2] = stopVote ? 1 : 0
        try communicator.allReduceSum(buffer)
        offset = 0
        for p in parameters {
            p.replaceGradient(from: buffer.baseAddress! + offset)
            offset += p.grad.count
        }
        stopAgreed = buffer[gradientCount + 2] > 0
        return (Double(buffer[gradientCount]), Int(buffer[gradientCount + 1]))
    }

    /// Copies rank 0's parameter values to every rank, so all start from the same weights.
    func broadcastParameters() throws {
        var offset = 0
        for p in parameters {
            (buffer.baseAddress! + offset).update(from: p.value.data, count: p.value.count)
            offset += p.value.count
        }
        try communicator.broadcast(
            UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: gradientCount * MemoryLayout<Float>.stride), root: 0)
        offset = 0
        for p in parameters {
            p.value.data.update(from: buffer.baseAddress! + offset, count: p.value.count)
            offset += p.value.count
        }
    }
}
