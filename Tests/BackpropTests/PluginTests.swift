import Foundation
import Testing
@testable import Backprop

/// C plugins built with `cc -shared` during the run: the `example` and `blis` plugins from
/// Plugins/, and small broken ones, each of which must give one clear error or an
/// unavailable row, never a crash or a silent fallback.
@Suite("Backend plugins")
struct PluginTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// Where the plugins are built; if it cannot be created, the first compile says so.
    static let directory = (try? TestScratch.directory("plugins")) ?? TestScratch.root + "/plugins"

    /// Compiles C `sources` into `directory/file` with the plugin header on the include path.
    /// Returns nil (with the compiler's message) when it does not build.
    static func compile(_ sources: [String], to file: String, libraries: [String] = []) -> (path: String?, log: String) {
        let output = directory + "/" + file
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-shared", "-fPIC", "-O1", "-I", root + "/CKernels/include"] + sources
            + libraries + ["-o", output]
        let log = Pipe()
        process.standardError = log
        process.standardOutput = log
        do { try process.run() } catch { return (nil, "\(error)") }
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus == 0 ? output : nil, text)
    }

    /// A test plugin: a correct plain-loop GEMM unless `gemm` replaces its body; every field
    /// of the table can be overridden to make it broken in one way.
    static func testPlugin(
        _ name: String, version: String = "BP_PLUGIN_ABI_VERSION", size: String = "sizeof(bp_plugin)",
        nameField: String? = nil, create: String = "create", entry: String = "backprop_plugin",
        createBody: String = "bp_plugin_instance *s = malloc(sizeof *s); if (s) s->threads = threads; return s;",
        probe: String = "NULL", gemm: String? = nil, code: String = "", fields: String = ""
    ) throws -> String {
        let gemmBody = gemm ?? """
            for (long i = 0; i < m; i++) for (long j = 0; j < n; j++) {
                float sum = 0;
                for (long p = 0; p < k; p++)
                    sum += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * c[i * ldc + j];
            }
            """
        let source = """
            #include <stdio.h>
            #include <stdlib.h>
            #include "backprop_plugin.h"
            struct bp_plugin_instance { int threads; };
            static bp_plugin_instance *create(int threads, char *why, size_t why_size) {
                (void)why; (void)why_size; \(createBody)
            }
            static void destroy(bp_plugin_instance *s) { free(s); }
            static int says_no(char *why, size_t why_size) { snprintf(why, why_size, "needs a GPU; install one"); return 0; }
            static void sgemm(bp_plugin_instance *self, int ta, int tb, long m, long n, long k, float alpha,
                              const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
                (void)self; (void)says_no;
                \(gemmBody)
            }
            \(code)
            static const bp_plugin table = {
                .abi_version = \(version), .struct_size = \(size), .name = \(nameField ?? "\"\(name)\""),
                .detail = "test plugin \(name)", .probe = \(probe), .create = \(create), .destroy = destroy,
                .sgemm = sgemm, \(fields)
            };
            const bp_plugin *\(entry)(void) { return &table; }
            """
        let file = directory + "/\(name).c"
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        let built = compile([file], to: "libbackprop-\(name).so")
        return try #require(built.path, "cc failed for \(name): \(built.log)")
    }

    /// The reason of the ``BackpropError/badPlugin(path:reason:)`` that loading `path` throws.
    static func loadError(_ path: String) -> String {
        do {
            let name = try BackendPlugins.load(path: path)
            return "loaded as '\(name)'"
        } catch let BackpropError.badPlugin(errorPath, reason) {
            #expect(errorPath == path)
            return reason
        } catch {
            return "unexpected error \(error)"
        }
    }

    @Test func everyMalformedPluginIsOneClearError() throws {
        #expect(Self.loadError(Self.directory + "/libbackprop-missing.so") == "no such file")
        let noEntry = try Self.testPlugin("noentry", entry: "something_else")
        #expect(Self.loadError(noEntry).contains("does not export 'backprop_plugin'"))
        let nullEntry = try Self.testPlugin("nullentry", entry: "unused_entry",
                                            code: "const bp_plugin *backprop_plugin(void) { return NULL; }")
        #expect(Self.loadError(nullEntry) == "'backprop_plugin' returned NULL")
        let future = try Self.testPlugin("future", version: "99")
        #expect(Self.loadError(future).contains("ABI version 99, newer than this host's version \(BackendPlugins.abiVersion)"))
        let past = try Self.testPlugin("past", version: "0")
        #expect(Self.loadError(past).contains("ABI version 0, older than the oldest this host loads (1)"))
        let small = try Self.testPlugin("small", size: "16")
        #expect(Self.loadError(small).contains("its table is 16 bytes, smaller than"))
        // A version-3 table cut at version 2's size: too small for the version it claims.
        #expect(BackendPlugins.abiVersion == 3 && BackendPlugins.tableSize(ofVersion: 3) == 312)
        let cut = try Self.testPlugin("cut", size: "offsetof(bp_plugin, conv2d_forward)")
        #expect(Self.loadError(cut).contains("smaller than the 312 bytes of ABI version 3"))
        let clash = try Self.testPlugin("clash", nameField: "\"c\"")
        #expect(Self.loadError(clash).contains("'c' clashes with a built-in backend"))
        let noName = try Self.testPlugin("noname", nameField: "NULL")
        #expect(Self.loadError(noName).contains("required field 'name' is NULL"))
        let noCreate = try Self.testPlugin("nocreate", create: "NULL")
        #expect(Self.loadError(noCreate).contains("required field 'create' is NULL"))
        let spaced = try Self.testPlugin("spaced", nameField: "\"two words\"")
        #expect(Self.loadError(spaced).contains("is not usable"))
        // The same name from a second file is refused, not shadowed.
        let first = try Self.testPlugin("twice")
        try BackendPlugins.load(path: first)
        let copy = Self.directory + "/libbackprop-twice-copy.so"
        try FileManager.default.copyItem(atPath: first, toPath: copy)
        #expect(Self.loadError(copy).contains("'twice' is already registered"))
        #expect(try BackendPlugins.load(path: first) == "twice", "loading the same path again is a no-op")
        // A text file is not a library.
        let text = Self.directory + "/libbackprop-text.so"
        try "not a library".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(Self.loadError(text).hasPrefix("cannot be loaded: "))
    }

    /// The image ops of ABI version 2, the slots a version-1 plugin does not have.
    static let imageOps: [VerifiedOp] = [
        .im2col, .col2im, .swapLeadingAxes, .maxPool2dForward, .maxPool2dBackward, .avgPool2dForward,
        .avgPool2dBackward, .addChannelBias, .sumChannels, .batchNormStatistics, .batchNormForward,
        .batchNormBackward, .multiply,
    ]

    @Test func verifyNamesABrokenImageOpOfAPlugin() throws {
        // A native maxpool2d_forward that takes the window's first element, not its maximum:
        // the slot is called (not the host's kernel), and verify names the op.
        let firstNotMax = try Self.testPlugin("firstnotmax", code: """
            static void first(bp_plugin_instance *self, const float *x, long planes, const bp_plugin_window2d *w,
                              float *y, int32_t *argmax) {
                (void)self;
                long oh = (w->height + 2 * w->padding - w->kernel_h) / w->stride + 1;
                long ow = (w->width + 2 * w->padding - w->kernel_w) / w->stride + 1;
                for (long p = 0; p < planes; p++) for (long i = 0; i < oh; i++) for (long j = 0; j < ow; j++) {
                    long iy = i * w->stride - w->padding, ix = j * w->stride - w->padding;
                    if (iy < 0) iy = 0;
                    if (ix < 0) ix = 0;
                    y[(p * oh + i) * ow + j] = x[(p * w->height + iy) * w->width + ix];
                    argmax[(p * oh + i) * ow + j] = (int32_t)(iy * w->width + ix);
                }
            }
            """, fields: ".maxpool2d_forward = first,")
        let name = try BackendPlugins.load(path: firstNotMax)
        let backend = try #require(try BackendRegistry.make(name: name, threads: 1, environment: [:]) as? PluginBackend)
        #expect(backend.nativeOps == ["sgemm", "maxpool2d_forward"])
        let report = try Conformance.run(backend, ops: Self.imageOps, training: false)
        #expect(report.failures.count == 1 && report.failures[0].hasPrefix("\(name) maxpool2d_forward:"), "\(report.failures)")
    }

    /// The direct-convolution ops of ABI version 3, the slots a version-2 plugin does not have.
    static let convolutionOps: [VerifiedOp] = [.conv2dForward, .conv2dBackwardData, .conv2dBackwardWeight]

    /// A table of an older ABI version: where it ends (the first slot the next version
    /// appended), a bogus pointer stored in a slot past that end, and the ops it lacks.
    struct OlderTable: Sendable, CustomStringConvertible {
        let version: Int, endsAt: String, bogusSlots: [String], missingOps: [VerifiedOp]
        var description: String { "ABI \(version)" }
    }
    static let olderTables = [
        OlderTable(version: 1, endsAt: "im2col", bogusSlots: ["im2col", "multiply"], missingOps: imageOps),
        OlderTable(version: 2, endsAt: "conv2d_forward", bogusSlots: ["conv2d_forward"], missingOps: convolutionOps),
    ]

    @Test(arguments: olderTables)
    func anOlderPluginLoadsWithTheLaterOpsOnTheHost(_ table: OlderTable) throws {
        // Built as that version saw it: the table ends where the next version's slots begin.
        // The bytes past struct_size hold a bogus pointer, which the host must not read (calling
        // it would crash the test); the ops the table lacks verify on the host's C kernels.
        let fields = table.bogusSlots.map { ".\($0) = (__typeof__(((bp_plugin *)0)->\($0)))8" }.joined(separator: ", ")
        let old = try Self.testPlugin("abi\(table.version)", version: "\(table.version)",
                                      size: "offsetof(bp_plugin, \(table.endsAt))", fields: fields)
        let name = try BackendPlugins.load(path: old)
        let backend = try #require(try BackendRegistry.make(name: name, threads: 1, environment: [:]) as? PluginBackend)
        #expect(backend.nativeOps == ["sgemm"] && backend.hostOps.count == 32
                && backend.detail.contains("(ABI \(table.version))"))
        #expect(backend.prefersDirectConvolution == backend.host.prefersDirectConvolution)
        let report = try Conformance.run(backend, ops: table.missingOps, training: false)
        #expect(report.passed && report.ops.count == table.missingOps.count, "\(report.failures)")
    }

    /// A plain-loop direct convolution forward for test plugins; `withBias` false drops the bias.
    static func convolutionForward(withBias: Bool) -> String {
        """
        static void conv(bp_plugin_instance *self, const float *x, long batch, const bp_plugin_window2d *w,
                         const float *weight, const float *bias, long out_channels, float *y) {
            (void)self;
            long oh = (w->height + 2 * w->padding - w->kernel_h) / w->stride + 1;
            long ow = (w->width + 2 * w->padding - w->kernel_w) / w->stride + 1;
            for (long n = 0; n < batch; n++) for (long k = 0; k < out_channels; k++)
            for (long i = 0; i < oh; i++) for (long j = 0; j < ow; j++) {
                float sum = \(withBias ? "bias ? bias[k] : 0" : "0"); \(withBias ? "" : "(void)bias;")
                for (long c = 0; c < w->channels; c++) for (long a = 0; a < w->kernel_h; a++)
                for (long b = 0; b < w->kernel_w; b++) {
                    long iy = i * w->stride - w->padding + a, ix = j * w->stride - w->padding + b;
                    if (iy < 0 || ix < 0 || iy >= w->height || ix >= w->width) continue;
                    sum += weight[((k * w->channels + c) * w->kernel_h + a) * w->kernel_w + b]
                         * x[((n * w->channels + c) * w->height + iy) * w->width + ix];
                }
                y[((n * out_channels + k) * oh + i) * ow + j] = sum;
            }
        }
        """
    }

    @Test func aPluginConvolutionIsCalledAndVerified() throws {
        // A correct native conv2d_forward passes verify and trains a CNN through its slot; the
        // same kernel without the bias fails verify with the op named.
        let good = try Self.testPlugin("convgood", code: Self.convolutionForward(withBias: true),
                                       fields: ".conv2d_forward = conv,")
        let goodName = try BackendPlugins.load(path: good)
        let backend = try #require(try BackendRegistry.make(name: goodName, threads: 1, environment: [:]) as? PluginBackend)
        #expect(backend.nativeOps == ["sgemm", "conv2d_forward"] && backend.prefersDirectConvolution)
        let report = try Conformance.run(backend, ops: Self.convolutionOps, training: false)
        #expect(report.passed, "\(report.failures)")

        let noBias = try Self.testPlugin("convnobias", code: Self.convolutionForward(withBias: false),
                                         fields: ".conv2d_forward = conv,")
        let noBiasName = try BackendPlugins.load(path: noBias)
        let broken = try BackendRegistry.make(name: noBiasName, threads: 1, environment: [:])
        let failing = try Conformance.run(broken, ops: Self.convolutionOps, training: false)
        #expect(failing.failures.count == 1 && failing.failures[0].hasPrefix("\(noBiasName) conv2d_forward:"),
                "\(failing.failures)")
        // Conv2d itself routes through the slot: on a zero input the output is the bias from
        // the host's kernels and 0 from the plugin's kernel that drops it.
        let layer = Conv2d(1, 2, kernelSize: 3, padding: 1)
        let bias = try #require(layer.bias)
        bias.value.data[0] = 5
        bias.value.data[1] = 5
        let zeros = Tensor(shape: [1, 1, 4, 4])
        #expect(layer.forward(zeros, backend: CBackend(threads: 1)).scalars.allSatisfy { $0 == 5 })
        #expect(layer.forward(zeros, backend: broken).scalars.allSatisfy { $0 == 0 })
    }

    @Test func aPluginThatCannotRunHereIsAnUnavailableRow() throws {
        let failing = try Self.testPlugin("initfails", createBody: "snprintf(why, why_size, \"no device found\"); return NULL;")
        let refusing = try Self.testPlugin("refuses", probe: "says_no")
        try BackendPlugins.load(path: failing)
        try BackendPlugins.load(path: refusing)
        let rows = try BackendRegistry.entries(threads: 1, environment: [:])
        let initRow = try #require(rows.first { $0.name == "initfails" })
        #expect(!initRow.available && initRow.reason?.contains("failed to create an instance: no device found") == true)
        let probeRow = try #require(rows.first { $0.name == "refuses" })
        #expect(!probeRow.available && probeRow.reason?.contains("cannot run here: needs a GPU; install one") == true)
        #expect(throws: BackpropError.self) { try BackendRegistry.make(name: "initfails", threads: 1, environment: [:]) }
    }

    @Test func verifyNamesTheOpOfABrokenGemm() throws {
        let ignoresBeta = try Self.testPlugin("ignoresbeta", gemm: """
            for (long i = 0; i < m; i++) for (long j = 0; j < n; j++) {
                float sum = 0;
                for (long p = 0; p < k; p++)
                    sum += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = alpha * sum; (void)beta;
            }
            """)
        let wrongTranspose = try Self.testPlugin("wrongtranspose", gemm: """
            for (long i = 0; i < m; i++) for (long j = 0; j < n; j++) {
                float sum = 0;
                // Reads a transposed B as if it were not (only inside B's n * ldb floats).
                for (long p = 0; p < k; p++)
                    sum += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb && p * ldb + j >= n * ldb ? 0 : b[p * ldb + j]);
                c[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * c[i * ldc + j];
            }
            """)
        for path in [ignoresBeta, wrongTranspose] {
            let name = try BackendPlugins.load(path: path)
            let report = try Conformance.run(try BackendRegistry.make(name: name, threads: 1, environment: [:]),
                                             ops: [.gemm, .addBias], training: false)
            #expect(!report.passed)
            #expect(report.failures.count == 1 && report.failures[0].hasPrefix("\(name) gemm:"), "\(report.failures)")
        }
        // The CLI: exit 1, the op named.
        let dir = try CLITests.temporaryDirectory()
        let run = try CLITests.run(["verify", "--plugin", ignoresBeta, "--op", "gemm"], in: dir)
        #expect(run.status == 1 && run.stdout.contains("gemm") && run.stdout.contains("FAIL"), "\(run)")
        #expect(run.stderr.contains("ignoresbeta gemm:"), "\(run.stderr)")
    }

    @Test func theCLIGivesOneErrorLineForABadPlugin() throws {
        let dir = try CLITests.temporaryDirectory()
        let future = try Self.testPlugin("clifuture", version: "\(BackendPlugins.abiVersion + 1)")
        for arguments in [["backends", "--plugin", future], ["train", "--plugin", dir + "/nothing.so", "--epochs", "1"],
                          ["bench", "gemm", "--plugin", future, "--quick"]] {
            let run = try CLITests.run(arguments, in: dir)
            let lines = run.stderr.split(separator: "\n")
            #expect(run.status == 1 && lines.count == 1 && lines[0].hasPrefix("error: plugin "), "\(arguments): \(run)")
        }
    }

    @Test func pluginPathLoadsFilesAndScansDirectories() throws {
        let scanned = Self.directory + "/scan"
        try FileManager.default.createDirectory(atPath: scanned, withIntermediateDirectories: true)
        let built = try Self.testPlugin("scanned")
        try FileManager.default.moveItem(atPath: built, toPath: scanned + "/libbackprop-scanned.so")
        try "ignored".write(toFile: scanned + "/other.so", atomically: true, encoding: .utf8)
        let names = try BackendPlugins.loadFromEnvironment([ProcessEnvironment.pluginPathVariable: scanned])
        #expect(names == ["scanned"])
        #expect(try BackendPlugins.loadFromEnvironment([:]).isEmpty)
    }

    /// 3 epochs of digits on `name` and on `c`, same seeds: the accuracies must agree.
    static func trainsLikeC(_ name: String) throws {
        let plugin = try BackendRegistry.make(name: name, threads: 2, environment: [:])
        let c = try BackendRegistry.make(name: "c", threads: 2, environment: [:])
        let onPlugin = try Conformance.compareTraining(plugin), onC = try Conformance.compareTraining(c)
        #expect(onPlugin.pass, "\(onPlugin.failure ?? "")")
        #expect(abs(onPlugin.accuracy - onC.accuracy) <= 0.005 && onC.accuracy > 0.9,
                "\(name) \(onPlugin.accuracy) vs c \(onC.accuracy)")
    }

    @Test func thePluginPathOfThisRunLoads() throws {
        // scripts/test sets BACKPROP_PLUGIN_PATH=.build/plugins for the equivalence suites.
        let names = try BackendPlugins.loadFromEnvironment()
        if ProcessEnvironment.current[ProcessEnvironment.pluginPathVariable] != nil {
            #expect(names.contains("example"), "\(names)")
        }
    }

    /// `name` if BACKPROP_PLUGIN_PATH already loaded it (from Plugins/ too), else the plugin
    /// built from `sources` now.
    static func loadPlugin(_ name: String, _ sources: [String], libraries: [String] = []) throws -> String? {
        _ = try? BackendPlugins.loadFromEnvironment()
        if BackendRegistry.contains(name) { return name }
        let built = compile(sources, to: "libbackprop-\(name).so", libraries: libraries)
        guard let path = built.path else {
            print("\(name) plugin unavailable here (not a failure): \(built.log.split(separator: "\n").first ?? "")")
            return nil
        }
        return try BackendPlugins.load(path: path)
    }

    @Test func theExamplePluginVerifiesAndTrainsDigitsLikeC() throws {
        let loaded = try Self.loadPlugin("example", [Self.root + "/Plugins/example/example.c"])
        let name = try #require(loaded, "the example plugin needs only a C compiler")
        #expect(name == "example")
        let backend = try #require(try BackendRegistry.make(name: name, threads: 2, environment: [:]) as? PluginBackend)
        #expect(backend.nativeOps == ["sgemm", "add_channel_bias"] && backend.hostOps.count == 31)
        let report = try Conformance.run(backend, training: false)
        #expect(report.passed, "\(report.failures)")
        try Self.trainsLikeC(name)
    }

    @Test func theBlisPluginVerifiesAndTrainsDigitsLikeCWhereBlisIsInstalled() throws {
        // A machine without libblis-dev: reported, not a failure (scripts/plugins says the same).
        guard let name = try Self.loadPlugin("blis", [Self.root + "/Plugins/blis/blis.c"], libraries: ["-lblis"]) else {
            return
        }
        let report = try Conformance.run(try BackendRegistry.make(name: name, threads: 2, environment: [:]), training: false)
        #expect(report.passed, "\(report.failures)")
        try Self.trainsLikeC(name)
    }
}
