import CKernels

/// The SIMD instruction sets the C kernels can run with, in increasing order.
///
/// Each ``CBackend`` carries its own level (there is no process-wide setting); the kernels
/// clamp a level above what the CPU supports to ``supported``.
public enum SIMDLevel: Int32, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Plain C, any CPU.
    case portable = 0
    /// AVX2 + FMA.
    case avx2 = 1
    /// AVX-512 F/VL + FMA.
    case avx512 = 2

    /// The best level this CPU supports.
    public static var supported: SIMDLevel { SIMDLevel(rawValue: bp_simd_level_supported()) ?? .portable }

    /// `portable`, `avx2` or `avx512` (the values `BACKPROP_SIMD` accepts).
    public var description: String { String(cString: bp_simd_level_name(rawValue)) }

    /// Orders the levels by capability: `portable < avx2 < avx512`.
    public static func < (lhs: SIMDLevel, rhs: SIMDLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The level a backend runs with: `explicit`, else `BACKPROP_SIMD`, else ``supported``;
    /// a level above ``supported`` is lowered to it (the variable can only force a lower one).
    ///
    /// An empty variable counts as unset.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` when `BACKPROP_SIMD` is not one of
    ///   `portable`, `avx2`, `avx512`; the message names the variable.
    public static func resolve(
        _ explicit: SIMDLevel? = nil, environment: [String: String] = ProcessEnvironment.current
    ) throws -> SIMDLevel {
        if let explicit { return min(explicit, supported) }
        let variable = ProcessEnvironment.simdVariable
        guard let raw = environment[variable], !raw.isEmpty else { return supported }
        guard let level = allCases.first(where: { $0.description == raw.trimmingSpaces() }) else {
            throw BackpropError.invalidArgument(
                "\(variable)='\(raw)' is not a SIMD level; set it to portable, avx2 or avx512, or unset it")
        }
        return min(level, supported)
    }
}
