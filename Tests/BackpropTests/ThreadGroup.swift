import Foundation
@testable import Backprop

/// N ranks as N threads of the test process: a ``Communicator`` for testing data-parallel
/// training without MPI. The last rank to arrive at a collective does the work for all (sums in
/// rank order, so results are deterministic) and releases the others.
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var buffers: [UnsafeMutableRawBufferPointer?]
    private var arrived = 0
    private var generation = 0

    init(size: Int) {
        self.size = size
        buffers = Array(repeating: nil, count: size)
    }

    /// Rank `rank`'s view of the group.
    func member(_ rank: Int) -> Member { Member(group: self, rank: rank) }

    /// Runs `body(rank)` on `size` threads at once and returns their results in rank order.
    func run<T>(_ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let results = ResultBox<T>(count: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                results.set(rank, Result { try body(rank) })
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.values
    }

    /// Blocks until every rank has posted its buffer, then (on the last rank) applies
    /// `combine` to all buffers in rank order.
    fileprivate func collective(rank: Int, buffer: UnsafeMutableRawBufferPointer,
                                combine: ([UnsafeMutableRawBufferPointer]) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        buffers[rank] = buffer
        arrived += 1
        if arrived == size {
            combine(buffers.map { $0! })
            arrived = 0
            buffers = Array(repeating: nil, count: size)
            generation += 1
            condition.broadcast()
        } else {
            let mine = generation
            while generation == mine { condition.wait() }
        }
    }

    final class Member: Communicator {
        let group: ThreadGroup
        let rank: Int
        var size: Int { group.size }

        init(group: ThreadGroup, rank: Int) {
            self.group = group
            self.rank = rank
        }

        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
            group.collective(rank: rank, buffer: UnsafeMutableRawBufferPointer(buffer)) { all in
                let floats = all.map { $0.bindMemory(to: Float.self) }
                for i in 0..<buffer.count {
                    var sum = floats[0][i]
                    for r in 1..<floats.count { sum += floats[r][i] }
                    for r in 0..<floats.count { floats[r][i] = sum }
                }
            }
        }

        func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
            group.collective(rank: rank, buffer: buffer) { all in
                for r in all.indices where r != root { all[r].copyMemory(from: UnsafeRawBufferPointer(all[root])) }
            }
        }

        func barrier() throws {
            group.collective(rank: rank, buffer: UnsafeMutableRawBufferPointer(start: nil, count: 0)) { _ in }
        }

        func abort(code: Int32) -> Never { fatalError("rank \(rank) aborted with \(code)") }
    }
}

/// Results written by several threads, one slot each.
private final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, any Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<T, any Error>) { lock.withLock { slots[index] = value } }
    var values: [Result<T, any Error>] { lock.withLock { slots.map { $0! } } }
}
