@testable import Backprop
import FuzzDriver
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    fuzz(UnsafeRawPointer(data), size)
})

/// One input: the bytes as a safetensors file. A file that decodes must re-encode to
/// bytes that decode to the same tensors (bit for bit) and metadata; a file that does not must
/// fail with a one-line ``BackpropError``. Anything else stops the fuzzer.
func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let (tensors, metadata) = check({ try SafeTensors.decode(bytes, path: "fuzz.safetensors") }) else { return 0 }
    let names = tensors.keys.sorted()
    let shapes = tensors.mapValues(\.shape)
    guard let again = check({
        try SafeTensors.decode(
            SafeTensors.encode(tensors: names.map { ($0, tensors[$0]!.tensor) }, shapes: shapes, metadata: metadata),
            path: "again")
    }) else {
        preconditionFailure("a decoded file does not re-encode")
    }
    precondition(again.metadata == metadata && again.tensors.keys.sorted() == names)
    for name in names {
        let (a, b) = (tensors[name]!, again.tensors[name]!)
        precondition(a.shape == b.shape && a.tensor.rows == b.tensor.rows && a.tensor.cols == b.tensor.cols)
        precondition((0..<a.tensor.count).allSatisfy { a.tensor.data[$0].bitPattern == b.tensor.data[$0].bitPattern })
    }
    return 0
}
