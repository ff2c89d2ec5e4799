#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Backprop

/// A command-line error that is not a library error: one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes `text` to stderr unbuffered (progress and errors go there; results go to stdout).
/// A closed stderr (`2>&1 | head -1`) is not an error: SIGPIPE is ignored (see
/// ``ignoreBrokenPipes()``) and the write fails with EPIPE, which ends it quietly, so a run
/// whose progress nobody reads still finishes and saves.
func writeStderr(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
        offset += n
    }
    bytes.removeAll()
}

/// Writes `text` to stdout and flushes it, so results appear before any later stderr line.
func writeStdout(_ text: String) {
    print(text, terminator: "")
    fflush(nil)
}

/// Writes the one `error:` line: control characters escaped (a path may hold a newline) and
/// cut at 1000 characters (a forged file may hold a megabyte-long name).
func writeErrorLine(_ message: String) {
    writeStderr("error: \(printable(message, limit: 1000))\n")
}

/// Exits for `error`: help and version on stdout with status 0; usage errors as
/// `error: ...` with status 2; everything else as `error: ...` with status 1.
func exitWithError(_ error: any Error) -> Never {
    fflush(nil)
    switch error {
    case let code as ExitCode:
        exit(code.rawValue)
    case let error as BackpropError:
        writeErrorLine(error.description)
        exit(1)
    case let error as CLIError:
        writeErrorLine(error.description)
        exit(1)
    default:
        let code = BackpropCommand.exitCode(for: error)
        if code == .success {
            writeStdout(BackpropCommand.fullMessage(for: error) + "\n")
            exit(0)
        }
        let message = BackpropCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        writeErrorLine(lowercasedFirst(stripPrefix(message)))
        exit(code == .validationFailure ? 2 : 1)
    }
}

/// The message without ArgumentParser's own "Error: " prefix.
private func stripPrefix(_ message: String) -> String {
    message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
}

private func lowercasedFirst(_ text: String) -> String {
    guard let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase ?? true else { return text }
    return first.lowercased() + text.dropFirst()
}

/// Ignores SIGPIPE for the whole process: a reader that goes away (`| head -1`) must not kill a
/// training run before it saves. Writes to the closed pipe then fail with EPIPE, which
/// ``writeStderr(_:)`` and ``writeStdout(_:)`` ignore.
func ignoreBrokenPipes() {
    signal(SIGPIPE, SIG_IGN)
}
