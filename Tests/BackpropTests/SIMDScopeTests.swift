import CKernels
import Foundation
import Testing
@testable import Backprop

/// The SIMD level this run covers is the one the CI machine should give. scripts/test sets
/// `BACKPROP_EXPECT_SIMD` from /proc/cpuinfo (and refuses a CPU without AVX-512 unless told to
/// accept less); without it, this test reads /proc/cpuinfo itself. Either way the C kernels
/// must detect and run that level, and the per-level tests force every level up to it.
/// (Run outside scripts/test with BACKPROP_SIMD set, the registry's backend runs that level
/// instead, and this test says so.)
@Suite struct SIMDScopeTests {
    /// The level the CPU flags allow, by the rule of `bp_simd_level_supported` (avx512f +
    /// avx512vl + fma; else avx2 + fma; else portable).
    static func levelFromCPUInfo() throws -> String {
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(text.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512vl", "fma"]) { return "avx512" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "avx2" }
        return "portable"
    }

    @Test func theCKernelsRunTheExpectedLevel() throws {
        #if arch(x86_64)
        let expected = try ProcessInfo.processInfo.environment["BACKPROP_EXPECT_SIMD"] ?? Self.levelFromCPUInfo()
        let supported = String(cString: bp_simd_level_name(bp_simd_level_supported()))
        #expect(supported == expected, "the C kernels detect \(supported), expected \(expected)")
        // What users get: the registry's `c` backend, built from the process environment
        // (scripts/test clears BACKPROP_SIMD), reads back the expected level from its context.
        let registered = try #require(try BackendRegistry.make(name: "c", threads: 1) as? CBackend)
        #expect(registered.simdLevel == expected, "the registry's c backend runs \(registered.simdLevel), expected \(expected)")
        #expect(CBackend().simdLevel == expected, "a default CBackend runs \(CBackend().simdLevel), expected \(expected)")
        // The levels the per-level tests force: every one from portable up to the expected one.
        let forced = CKernelTests.levels.map { String(cString: bp_simd_level_name($0)) }
        let all = ["portable", "avx2", "avx512"]
        let upTo = try #require(all.firstIndex(of: expected))
        #expect(forced == Array(all[...upTo]), "forced levels \(forced)")
        #else
        #expect(String(cString: bp_simd_level_name(bp_simd_level_supported())) == "portable")
        #endif
    }
}
