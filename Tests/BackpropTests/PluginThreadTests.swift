import CKernels
import Foundation
import Testing
@testable import Backprop

/// Two instances of one plugin with different thread counts, used alternately in one process,
/// each keep their own: nothing is set process-wide, neither by the plugin nor by the host.
@Suite("Plugin instances keep their own threads")
struct PluginThreadTests {
    @Test func twoCInstancesThroughThePluginPathKeepTheirOwnThreads() throws {
        // A plugin whose native `fill` writes the thread count its instance was created with;
        // every other op is NULL, so it runs on the host's C kernels of that instance.
        let path = try PluginTests.testPlugin("threadfill", code: """
            static void fill_threads(bp_plugin_instance *self, float *x, float value, long n) {
                (void)value;
                for (long i = 0; i < n; i++) x[i] = (float)self->threads;
            }
            """, fields: ".fill = fill_threads,")
        let name = try BackendPlugins.load(path: path)
        let one = try #require(try BackendRegistry.make(name: name, threads: 1, environment: [:]) as? PluginBackend)
        let two = try #require(try BackendRegistry.make(name: name, threads: 2, environment: [:]) as? PluginBackend)
        let expectedTwo = bp_has_openmp() != 0 ? 2 : 1
        var x = [Float](repeating: 0, count: 4096)
        for _ in 0..<3 {
            two.fill(&x, value: 0, count: x.count)
            #expect(x.allSatisfy { $0 == 2 }, "the plugin's instance of `two`")
            one.fill(&x, value: 0, count: x.count)
            #expect(x.allSatisfy { $0 == 1 }, "the plugin's instance of `one`")
            // The host's C kernels, measured by the team a parallel call really starts.
            #expect(CKernelTests.teamSize(one.host) == 1 && one.host.threads == 1)
            #expect(CKernelTests.teamSize(two.host) == expectedTwo)
            _ = two.sumOfSquares(x, count: x.count)
            _ = one.sumOfSquares(x, count: x.count)
        }
    }

    /// Builds Fixtures/plugin_threads.c and runs it on `plugin`: the number of threads that did
    /// a share of the GEMMs in each of the rounds A (1 thread), B (2), A, B.
    static func threadsPerRound(_ plugin: String) throws -> [String] {
        let driver = PluginTests.directory + "/plugin_threads"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-O1", "-I", PluginTests.root + "/CKernels/include",
                             PluginTests.root + "/Tests/BackpropTests/Fixtures/plugin_threads.c", "-ldl", "-o", driver]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "cc plugin_threads.c failed")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: driver)
        run.arguments = [plugin, "2"]
        let output = Pipe()
        run.standardOutput = output
        try run.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 0, "plugin_threads \(plugin): \(text)")
        return text.split(separator: "\n").map(String.init)
    }

    @Test func twoBlisInstancesKeepTheirOwnThreadsWhereBlisIsInstalled() throws {
        let blis = PluginTests.compile([PluginTests.root + "/Plugins/blis/blis.c"], to: "libbackprop-blis-threads.so",
                                       libraries: ["-lblis"])
        guard let path = blis.path else {
            print("blis plugin unavailable here (not a failure): \(blis.log.split(separator: "\n").first ?? "")")
            return
        }
        // Counted from each thread's CPU time, so other load on the machine does not matter.
        #expect(try Self.threadsPerRound(path) == ["round A 1", "round B 2", "round A 1", "round B 2"])

        // The measurement can fail: the same plugin with BLIS's process-wide setting (the last
        // instance created wins) runs instance A on 2 threads too.
        let source = try String(contentsOfFile: PluginTests.root + "/Plugins/blis/blis.c", encoding: .utf8)
        let global = source
            .replacingOccurrences(of: "bli_rntm_set_num_threads(threads < 1 ? 1 : threads, &self->rntm);",
                                  with: "bli_rntm_init(&self->rntm); bli_thread_set_num_threads(threads);")
            .replacingOccurrences(of: "NULL, &self->rntm);", with: "NULL, NULL);")
        #expect(global != source)
        let file = PluginTests.directory + "/blisglobal.c"
        try global.write(toFile: file, atomically: true, encoding: .utf8)
        let globalPath = try #require(PluginTests.compile([file], to: "libbackprop-blisglobal.so", libraries: ["-lblis"]).path)
        #expect(try Self.threadsPerRound(globalPath) == ["round A 2", "round B 2", "round A 2", "round B 2"])
    }
}
