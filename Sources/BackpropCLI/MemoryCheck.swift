#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Refuses a network whose training state cannot fit in this machine's memory, before any of
/// it is allocated. A typo such as `--hidden 6400000`, or a CSV label of 2000000000 (the class
/// count is the largest label + 1), would otherwise end in an out-of-memory trap.
/// - Parameters:
///   - widths: every layer width, input and output included, e.g. [64, 32, 10].
///   - classes: whether the output width is a class count taken from the labels.
/// - Throws: ``CLIError`` naming the parameter count, the memory it needs and the memory there is.
func checkFitsInMemory(_ widths: [Int], classes: Bool) throws {
    // Parameters of dense layers a -> b: a × b weights + b biases, with overflow checks.
    var parameters = 0
    var overflow = false
    for (a, b) in zip(widths, widths.dropFirst()) {
        let (weights, o1) = a.multipliedReportingOverflow(by: b)
        let (layer, o2) = weights.addingReportingOverflow(b)
        let (sum, o3) = parameters.addingReportingOverflow(layer)
        overflow = overflow || o1 || o2 || o3
        parameters = sum
    }
    // Weights, gradients and up to two optimizer slots (Adam), 4 bytes each.
    let bytesPerParameter = 16.0
    let memory = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
    let needed = overflow ? Double.infinity : Double(parameters) * bytesPerParameter
    guard overflow || (memory > 0 && needed > memory) else { return }
    let shape = widths.map(String.init).joined(separator: " → ")
    let count = overflow ? "more than \(Int.max)" : String(parameters)
    throw CLIError("a \(shape) network has \(count) parameters and needs about \(gibibytes(needed)) GiB to train, "
        + "more than this machine's \(gibibytes(memory)) GiB of memory; use narrower layers"
        + (classes && widths.last == widths.max() ? " (the output width is the class count: the largest label + 1)" : ""))
}

/// `bytes` in GiB with one decimal, e.g. "23.5"; "∞" past what a Double prints plainly.
private func gibibytes(_ bytes: Double) -> String {
    let g = bytes / Double(1 << 30)
    guard g < 1e15 else { return "∞" }
    return String((g * 10).rounded() / 10)
}
