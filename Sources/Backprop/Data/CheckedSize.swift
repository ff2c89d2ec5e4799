#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Size arithmetic on numbers that come from users and files (batch sizes, epoch counts,
/// widths, dimensions), checked: a product or sum past `Int.max` is a ``BackpropError``,
/// never a Swift overflow trap. Every size computed from input goes through here.
public enum CheckedSize {
    /// `a × b × ...`, or an error naming `what` when it does not fit in an `Int`.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` on overflow or a negative factor.
    public static func product(_ factors: [Int], _ what: String) throws -> Int {
        if let bad = factors.first(where: { $0 < 0 }) {
            throw BackpropError.invalidArgument("\(what): negative size \(bad)")
        }
        guard let result = product(factors) else { throw tooLarge(factors, what, "×") }
        return result
    }

    /// `a × b × ...`, or nil when a factor is negative or the product does not fit in an
    /// `Int`: for parsers that report the overflow with their own location in the file.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            guard factor >= 0, !overflow else { return nil }
            result = next
        }
        return result
    }

    /// `a + b + ...`, or an error naming `what` when it does not fit in an `Int`.
    public static func sum(_ terms: [Int], _ what: String) throws -> Int {
        var result = 0
        for term in terms {
            let (next, overflow) = result.addingReportingOverflow(term)
            guard !overflow else { throw tooLarge(terms, what, "+") }
            result = next
        }
        return result
    }

    /// `a + b` or nil when it overflows: for counters that must saturate rather than trap.
    public static func adding(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }

    /// ⌈count / size⌉ without the overflow of `(count + size - 1) / size`.
    public static func ceilDiv(_ count: Int, _ size: Int) -> Int {
        precondition(size > 0 && count >= 0)
        return count / size + (count % size == 0 ? 0 : 1)
    }

    private static func tooLarge(_ parts: [Int], _ what: String, _ op: String) -> BackpropError {
        .invalidArgument("\(what) \(parts.map(String.init).joined(separator: " \(op) ")) is larger than \(Int.max)")
    }
}

/// What this machine can hold: the ceiling for file reads, inflation and training memory.
public enum MemoryLimits {
    /// Physical memory in bytes (0 if unknown).
    public static var physicalBytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return 0 }
        return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size
    }

    /// The most bytes one input file (or its inflated gzip content) may hold: an eighth of
    /// physical memory (4 GiB when memory is unknown), since parsing needs the bytes plus the
    /// numbers made from them, and a run may load several files. Full MNIST as CSV is 110 MB.
    public static var fileBytes: Int {
        let physical = physicalBytes
        return physical > 0 ? physical / 8 : 4 << 30
    }

    /// ``fileBytes`` for messages: "an eighth of this machine's memory".
    static let fileBytesReason = "an eighth of this machine's memory"
}
