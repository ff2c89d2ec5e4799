import Foundation
import Testing

/// The short version of the CLI fuzzer (scripts/fuzz_cli.py; the long one is scripts/fuzz-cli):
/// 150 random argument lists, environments and forged files against the built binary, each of
/// which must exit 0/1/2/130/143, print at most three stderr lines on failure, and change no
/// file but its named outputs. Seed 1 unless FUZZ_CLI_SEED is set; about a minute.
@Suite struct CLIFuzzTests {
    @Test func shortCLIFuzzRunsClean() throws {
        let binary = try CLITests.executable().path
        let script = packageRoot.appendingPathComponent("scripts/fuzz_cli.py").path
        let artifacts = try CLITests.temporaryDirectory()
        let seed = ProcessInfo.processInfo.environment["FUZZ_CLI_SEED"] ?? "1"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--binary", binary, "--cases", "150", "--seed", seed,
                             "--jobs", "2", "--time-limit", "30", "--artifacts", artifacts]
        process.environment = CLITests.environment
        let log = artifacts + "/log.txt"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        let text = CLITests.contents(log)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("fuzz-cli: 150 cases in "), "\(text)")
    }
}
