import Foundation
import Testing
@testable import Backprop

/// A parent that starts `backprop` with SIGTERM blocked (Foundation's `Process` and Python's
/// `subprocess` spawn from threads that block it; the mask survives exec) could not stop
/// `bench`, `eval` or `predict` with `kill`: only `train` unblocked it. Found by the CLI
/// fuzzer (a `bench` still running 10 s after SIGTERM on a loaded machine). Every command
/// unblocks SIGINT, SIGTERM and SIGHUP first now.
@Suite struct SignalMaskTests {
    @Test func benchStartedWithSIGTERMBlockedStillStopsOnSIGTERM() throws {
        let binary = try CLITests.executable().path
        let arguments = [binary, "bench", "infer", "--min-time", "0", "--repeat", "1000", "--sizes", "4"]
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &blocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        try #require(posix_spawn(&pid, binary, &actions, &attributes, argv, environ) == 0)

        usleep(500_000)  // well inside the benchmark (it runs for minutes)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        var exited = false
        for _ in 0..<200 {  // up to 20 s, generous for a loaded machine
            if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
            usleep(100_000)
        }
        if !exited {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        #expect(exited, "bench did not stop within 20 s of SIGTERM")
        #expect(status & 0x7f == SIGTERM, "wait status \(status): not ended by SIGTERM")
    }
}
