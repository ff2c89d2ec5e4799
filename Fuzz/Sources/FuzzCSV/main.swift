@testable import Backprop
import FuzzDriver
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    fuzz(UnsafeRawPointer(data), size)
})

/// One input: the bytes as a CSV file, read as a labelled dataset (last column, header
/// detected), as regression data, and as a prediction matrix. Every outcome must be a
/// consistent result or a one-line ``BackpropError``; anything else stops the fuzzer.
func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if let data = check({ try CSV.parse(bytes: bytes, path: "fuzz.csv") }) {
        let labels = data.labels!
        precondition(labels.count == data.count && labels.allSatisfy { $0 >= 0 && Int($0) < data.outputCount })
        precondition(allFinite(data.features))
    }
    if let data = check({ try CSV.parse(bytes: bytes, path: "fuzz.csv", labelColumn: .index(0), targets: .values) }) {
        guard case .values(let targets) = data.targets else { preconditionFailure("values expected") }
        precondition(allFinite(data.features) && allFinite(targets) && targets.rows == data.count)
    }
    if let data = check({ try CSV.parse(bytes: bytes, path: "fuzz.csv", labelColumn: .name("label")) }) {
        precondition(data.labels?.count == data.count)
    }
    if let (values, names) = check({ try CSV.parseMatrix(bytes: bytes, path: "fuzz.csv") }) {
        precondition(allFinite(values) && (names == nil || names!.count == values.cols))
    }
    return 0
}

func allFinite(_ t: Tensor) -> Bool {
    (0..<t.count).allSatisfy { t.data[$0].isFinite }
}
