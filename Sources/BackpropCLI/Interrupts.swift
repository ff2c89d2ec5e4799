#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// SIGINT/SIGTERM/SIGHUP handling for training: the first signal asks the trainer to stop at
/// the next step boundary (so a checkpoint can be written); a second one quits at once.
/// SIGHUP (the terminal closed) is treated like SIGTERM: save, then exit 129. A signal the
/// parent set to be ignored (`nohup`, a background job of a non-interactive shell) stays
/// ignored, as POSIX shells do. A signal during the final save, after training completed, lets
/// the atomic save finish and the run report its result with status 0: the work is complete.
enum Interrupts {
    /// The signal received (0 while none). Written from the signal handler, so a lock-free atomic.
    static let received = Atomic<Int32>(0)

    /// Installs the handlers. Until then the signals keep their default (terminate) action.
    static func install() {
        unblock()
        for sig in [SIGINT, SIGTERM, SIGHUP] where !isIgnored(sig) {
            signal(sig) { sig in
                // Only async-signal-safe work here: an atomic exchange and, the second time, _exit.
                if Interrupts.received.exchange(sig, ordering: .relaxed) != 0 { _exit(128 + sig) }
            }
        }
    }

    /// Unblocks SIGINT, SIGTERM and SIGHUP. A parent may have started us with them blocked (the
    /// mask survives exec); then Ctrl-C and kill would never reach a handler, nor end a command
    /// that keeps the default action (bench, eval): called first thing by every command.
    static func unblock() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Whether `sig` was set to SIG_IGN when the process started.
    private static func isIgnored(_ sig: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(sig, nil, &current) == 0 else { return false }
        // Handlers are C function pointers; SIG_IGN is the address 1.
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    /// The signal that asked to stop, or nil.
    static var requested: Int32? {
        let sig = received.load(ordering: .relaxed)
        return sig == 0 ? nil : sig
    }

    /// The conventional exit status for a run ended by `sig`: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
    static func exitStatus(for sig: Int32) -> Int32 { 128 + sig }
}
