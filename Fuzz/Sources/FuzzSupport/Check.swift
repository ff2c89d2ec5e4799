import Backprop

// What every fuzz target asks of a parser: a result, or a one-line BackpropError.

/// The value of `body`, or nil after checking that what it threw is a one-line BackpropError.
public func check<T>(_ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch let error as BackpropError {
        precondition(!error.description.contains("\n"), "multi-line error: \(error.description)")
        return nil
    } catch {
        preconditionFailure("not a BackpropError: \(error)")
    }
}
