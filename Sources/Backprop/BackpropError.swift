/// Every error Backprop throws. Each case's ``description`` is one line a user can act on.
public enum BackpropError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Two shapes that must agree do not; the message names both.
    case shapeMismatch(String)
    /// An argument is out of its domain (a zero batch size, a negative learning rate, ...).
    case invalidArgument(String)
    /// No backend has this name.
    case unknownBackend(name: String, known: [String])
    /// The backend exists but cannot run here (for example OpenBLAS is not installed).
    case backendUnavailable(name: String, reason: String)
    /// A backend plugin (a shared library, see docs/PLUGINS.md) cannot be loaded; the reason
    /// says what is wrong with it.
    case badPlugin(path: String, reason: String)
    /// A data or model file is malformed. `location` is "line 3, column 2", "byte 812", or empty.
    case malformedFile(path: String, location: String, message: String)
    /// A file cannot be read or written.
    case io(path: String, message: String)
    /// The loss became NaN or infinite.
    case diverged(epoch: Int, batch: Int, loss: Double)
    /// Distributed training cannot start or the ranks disagree (MPI missing, not under
    /// `mpirun`, different data on different ranks).
    case communication(String)

    /// The message as one line (control characters from quoted file contents escaped).
    public var description: String {
        // Names and cells quoted from files may hold line breaks; the message stays one line.
        escapingControlCharacters(text)
    }

    private var text: String {
        switch self {
        case .shapeMismatch(let message):
            return "shape mismatch: \(message)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .unknownBackend(let name, let known):
            return "unknown backend '\(name)'; known backends: \(known.joined(separator: ", "))"
        case .backendUnavailable(let name, let reason):
            return "backend '\(name)' is not available: \(reason)"
        case .badPlugin(let path, let reason):
            return "plugin \(path): \(reason)"
        case .malformedFile(let path, let location, let message):
            return location.isEmpty ? "\(path): \(message)" : "\(path): \(location): \(message)"
        case .io(let path, let message):
            return "\(path): \(message)"
        case .diverged(let epoch, let batch, let loss):
            return "training diverged: the loss became \(loss) at epoch \(epoch), batch \(batch); "
                + "try a lower learning rate (--lr) or gradient clipping (--clip-grad-norm)"
        case .communication(let message):
            return "distributed training: \(message)"
        }
    }
}
