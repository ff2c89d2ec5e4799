import Foundation
import Testing
@testable import Backprop

/// `backprop train` with stderr on a pseudo-terminal, so it draws its progress bar as a user
/// sees it: huge epoch counts used to trap there (exit 132) on the first bar, once in the
/// batches-left product and once converting an ETA beyond Int.max seconds to an Int.
/// Each run is stopped by SIGINT after its first bar: exit 130 with the checkpoint saved.
@Suite(.serialized) struct TerminalProgressTests {
    /// A pseudo-terminal `columns` wide: the controlling side and the terminal side.
    struct PseudoTerminal {
        let controller: Int32
        let terminal: Int32

        init(columns: UInt16) throws {
            // posix_openpt/unlockpt/ptsname by hand (Glibc's Swift module leaves them out):
            // Linux's TIOCSPTLCK (unlock) and TIOCGPTN (the number N of /dev/pts/N).
            controller = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            try #require(controller >= 0, "cannot open /dev/ptmx: errno \(errno)")
            var unlock: Int32 = 0, number: UInt32 = 0
            try #require(ioctl(controller, 0x4004_5431, &unlock) == 0, "TIOCSPTLCK failed: errno \(errno)")
            try #require(ioctl(controller, 0x8004_5430, &number) == 0, "TIOCGPTN failed: errno \(errno)")
            let name = "/dev/pts/\(number)"
            terminal = open(name, O_RDWR | O_NOCTTY)
            try #require(terminal >= 0, "cannot open \(name): errno \(errno)")
            var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
            try #require(ioctl(controller, UInt(TIOCSWINSZ), &size) == 0)
        }

        /// What the program wrote so far, waiting up to `timeout` seconds for more; nil at the
        /// end (every copy of the terminal side closed).
        func read(timeout: Double) -> [UInt8]? {
            var poller = pollfd(fd: controller, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return [] }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = Glibc.read(controller, &buffer, buffer.count)
            return n > 0 ? Array(buffer[..<n]) : nil
        }
    }

    struct Run {
        var status: Int32
        var reason: Process.TerminationReason
        var terminal: String
    }

    /// Runs `backprop arguments` with stderr on a terminal `columns` wide, sends SIGINT once
    /// the terminal shows `stopWhen` (or after 120 s), and collects what it showed until exit.
    func runOnTerminal(_ arguments: [String], in dir: String, columns: UInt16,
                       stopWhen: (String) -> Bool) throws -> Run {
        let pty = try PseudoTerminal(columns: columns)
        defer { close(pty.controller) }
        let process = Process()
        process.executableURL = try CLITests.executable()
        process.arguments = arguments
        process.environment = CLITests.environment
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let terminalHandle = FileHandle(fileDescriptor: pty.terminal, closeOnDealloc: true)
        process.standardError = terminalHandle
        try process.run()
        try terminalHandle.close()  // only the child holds the terminal side now

        var shown = [UInt8]()
        var interrupted = false
        let deadline = Date().addingTimeInterval(120)
        while let chunk = pty.read(timeout: 0.2) {
            shown += chunk
            if !interrupted, stopWhen(String(decoding: shown, as: UTF8.self)) || Date() > deadline {
                process.interrupt()
                interrupted = true
            }
            if !process.isRunning, chunk.isEmpty { break }
            if Date() > deadline.addingTimeInterval(60) {
                process.terminate()
                break
            }
        }
        process.waitUntilExit()
        return Run(status: process.terminationStatus, reason: process.terminationReason,
                   terminal: String(decoding: shown, as: UTF8.self))
    }

    /// The screen lines as drawn: a bar redrawn in place (`\r` … `ESC[K`) counts once per drawing.
    static func drawings(_ terminal: String) -> [String] {
        // The terminal turns "\n" into "\r\n", one Character in Swift: make it "\n" again.
        terminal.replacingOccurrences(of: "\u{1B}[K", with: "").replacingOccurrences(of: "\r\n", with: "\n")
            .split(whereSeparator: { $0 == "\r" || $0 == "\n" }).map(String.init)
            .filter { !$0.isEmpty }
    }

    /// The first progress bar shown, once it is complete (its ETA drawn, or the line cut at the
    /// terminal's width).
    static func firstBar(_ terminal: String) -> String? {
        let parts = terminal.components(separatedBy: "\r")
        guard parts.count > 2 else { return nil }  // a bar is complete once the next `\r` came
        return parts.dropFirst().first { $0.hasPrefix("epoch ") && $0.contains("[") }?
            .replacingOccurrences(of: "\u{1B}[K", with: "")
    }

    func check(_ run: Run, columns: Int, epochs: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.reason == .exit && run.status == 130, "status \(run.status) (\(run.reason)): \(run.terminal)",
                sourceLocation: sourceLocation)
        #expect(!run.terminal.contains("Fatal error") && !run.terminal.contains("crashed"), "\(run.terminal)",
                sourceLocation: sourceLocation)
        let bar = Self.firstBar(run.terminal)
        #expect(bar?.hasPrefix("epoch ") == true && bar?.contains("/\(epochs) [") == true,
                "no progress bar for \(epochs) epochs: \(run.terminal)", sourceLocation: sourceLocation)
        for line in Self.drawings(run.terminal) where line.hasPrefix("epoch ") && line.contains("[") {
            #expect(line.count < columns, "wider than the \(columns)-column terminal: \(line)", sourceLocation: sourceLocation)
        }
        let last = Self.drawings(run.terminal).last ?? ""
        // (Epoch 1 may end before the signal arrives on a fast machine: any position will do.)
        #expect(last.hasPrefix("interrupted ") && last.hasSuffix("; saved m.st; resume with: backprop train --resume m.st"),
                "last line: \(last)", sourceLocation: sourceLocation)
    }

    /// `--epochs 10^18` (the issue's case: the batches left overflowed an Int on the first bar).
    @Test func epochsTenToTheEighteenDrawsABarAndStopsOnSIGINT() throws {
        let dir = try CLITests.temporaryDirectory()
        let epochs = "1000000000000000000"
        let run = try runOnTerminal(["train", "--epochs", epochs, "--backend", "swift", "--save", "m.st"],
                                    in: dir, columns: 200, stopWhen: { Self.firstBar($0) != nil })
        check(run, columns: 200, epochs: epochs)
        let bar = Self.firstBar(run.terminal) ?? ""
        #expect(bar.contains(" · loss ") && bar.contains(" · ETA "), "bar: \(bar)")
        let saved = try ModelCheckpoint.load(from: dir + "/m.st")
        #expect(saved.trainingState.map { $0.epochsCompleted < 1_000_000 } == true)
    }

    /// `--epochs Int.max` with slow batches: the ETA passes Int.max seconds (it trapped in the
    /// Int conversion); it is shown in years. On a 60-column terminal the bar is cut to fit.
    @Test func epochsIntMaxShowsAnETAInYearsAndFitsANarrowTerminal() throws {
        let dir = try CLITests.temporaryDirectory()
        let epochs = "9223372036854775807"
        let arguments = ["train", "--epochs", epochs, "--batch-size", "1", "--hidden", "3000",
                         "--backend", "swift", "--save", "m.st"]
        let wide = try runOnTerminal(arguments, in: dir, columns: 250, stopWhen: { Self.firstBar($0) != nil })
        check(wide, columns: 250, epochs: epochs)
        let bar = Self.firstBar(wide.terminal) ?? ""
        #expect(bar.range(of: #" · ETA ([0-9.]+ years|over a million years)$"#, options: .regularExpression) != nil,
                "bar: \(bar)")

        let narrow = try runOnTerminal(arguments, in: try CLITests.temporaryDirectory(), columns: 60,
                                       stopWhen: { Self.firstBar($0) != nil })
        check(narrow, columns: 60, epochs: epochs)
    }
}
