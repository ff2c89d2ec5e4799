import CKernels

/// The CPU a benchmark runs on and the SGEMM blocking the `c` backend uses there, so a table is
/// never read against the wrong machine (`backprop bench` prints ``summary(simd:)`` first).
public struct MachineDescription: Sendable, Equatable {
    /// "AuthenticAMD", "GenuineIntel", ... (empty when unknown).
    public var vendor: String
    /// The CPU's model string, for example "AMD EPYC 7B13" (empty when unknown).
    public var brand: String
    /// The displayed family and model numbers (nil when unknown), e.g. 25 and 17 for Zen 4 EPYC.
    public var family: Int?, model: Int?
    /// Cache sizes in bytes: L1 data and L2 per core, L3 (0 when unknown).
    public var l1d: Int, l2: Int, l3: Int

    /// The CPU this process runs on.
    public static var current: MachineDescription {
        var info = bp_cpu_info()
        bp_cpu_describe(&info)
        func text<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return MachineDescription(
            vendor: text(info.vendor), brand: text(info.brand),
            family: info.family >= 0 ? Int(info.family) : nil, model: info.model >= 0 ? Int(info.model) : nil,
            l1d: info.caches.l1d, l2: info.caches.l2, l3: info.caches.l3)
    }

    /// The SGEMM blocking of the `c` backend at `simd` on this machine: the MR x NR register tile,
    /// the MC, KC, NC cache blocks (floats), and whether the loops keep a micro-panel of B in L1
    /// beside a block of A in L2 (the A-block order, chosen for smaller L2 caches) rather than a
    /// micro-panel of A in L1 beside a block of B in L2.
    public static func gemmBlocks(simd: SIMDLevel) -> (mr: Int, nr: Int, mc: Int, kc: Int, nc: Int, aBlockOrder: Bool) {
        let blocks = bp_gemm_blocks_in_use(simd.rawValue)
        return (blocks.mr, blocks.nr, blocks.mc, blocks.kc, blocks.nc, blocks.b_panel_in_l1 != 0)
    }

    /// "1024 KiB", "32 MiB", "unknown".
    static func size(_ bytes: Int) -> String {
        if bytes <= 0 { return "unknown" }
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        return "\(bytes >> 10) KiB"
    }

    /// Two lines: the CPU (model string, vendor, family/model, caches), then the SIMD path and
    /// the SGEMM blocks the `c` backend uses at `simd`.
    public func summary(simd: SIMDLevel) -> String {
        let name = brand.isEmpty ? "unknown CPU" : brand
        let numbers = family.map { "family \($0) model \(model ?? -1)" } ?? "family unknown"
        let vendorPart = vendor.isEmpty ? "" : "\(vendor) "
        let blocks = Self.gemmBlocks(simd: simd)
        return "cpu: \(name) (\(vendorPart)\(numbers)); L1d \(Self.size(l1d)), L2 \(Self.size(l2)) per core, "
            + "L3 \(Self.size(l3)); supports \(SIMDLevel.supported)\n"
            + "c kernels: SIMD path \(simd) (best supported \(SIMDLevel.supported)); SGEMM tile MR x NR "
            + "\(blocks.mr) x \(blocks.nr), blocks MC \(blocks.mc), KC \(blocks.kc), NC \(blocks.nc), "
            + (blocks.aBlockOrder ? "A-block order" : "B-block order") + " (from the cache sizes)"
    }
}
