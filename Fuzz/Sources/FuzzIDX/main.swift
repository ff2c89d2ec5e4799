@testable import Backprop
import FuzzDriver
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    fuzz(UnsafeRawPointer(data), size)
})

/// One input: the bytes as an IDX file, raw or gzip-compressed, read as images and as
/// labels. Every outcome must be a result that keeps the header's promises or a one-line
/// ``BackpropError``; anything else stops the fuzzer.
func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    let bytes: [UInt8]
    if isGzip(input) {
        guard let inflated = check({ try gunzip(input, path: "fuzz.gz") }) else { return 0 }
        bytes = inflated
    } else {
        bytes = input
    }
    if let (pixels, height, width) = check({ try IDX.decodeImages(bytes, path: "fuzz") }) {
        // (count, height × width) pixels, all scaled into [0, 1], exactly filling the file.
        precondition(pixels.cols == height * width && 16 + pixels.count == bytes.count)
        precondition((0..<pixels.count).allSatisfy { pixels.data[$0] >= 0 && pixels.data[$0] <= 1 })
    }
    if let labels = check({ try IDX.decodeLabels(bytes, path: "fuzz", classCount: 10) }) {
        precondition(8 + labels.count == bytes.count && labels.allSatisfy { (0..<10).contains($0) })
    }
    return 0
}
