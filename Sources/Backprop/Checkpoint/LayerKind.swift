#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A kind of layer that checkpoints and `--arch` text can hold: a name, the layer's
/// configuration as text, and a way to build the layer back from that text. The layer's tensors
/// (``Layer/namedParameters`` and ``Layer/namedBuffers``) are saved under PyTorch-style names.
///
/// In architecture text a layer is `name` or `name:configuration`, e.g. `conv2d:1:6:5:pad=2`;
/// the configuration must not contain `,` (the layer separator), `[` or `]` (which enclose the
/// layers of a nested `sequential:[...]`).
///
/// ```swift
/// try LayerKind.register(LayerKind(name: "scale", type: Scale.self,
///     configuration: { "\($0.width)" },
///     make: { text in Scale(Int(text)!) }))
/// ```
public struct LayerKind: Sendable {
    /// The kind's name: lowercase letters, digits, `_` or `-`.
    public let name: String
    let layerType: ObjectIdentifier
    let configurationOf: @Sendable (any Layer) -> String
    let make: @Sendable (String) throws -> any Layer

    /// A kind called `name` that saves layers of exactly `type`.
    ///
    /// - Parameters:
    ///   - name: the kind's name in architecture text: lowercase letters, digits, `_` or `-`.
    ///   - type: the exact class this kind saves (subclasses need their own kind).
    ///   - configuration: the text after `name:` that rebuilds the layer ("" for none).
    ///   - make: builds a layer from that text; throw ``BackpropError/invalidArgument(_:)`` for bad text.
    public init<L: Layer & SendableMetatype>(name: String, type: L.Type, configuration: @escaping @Sendable (L) -> String,
                          make: @escaping @Sendable (_ configuration: String) throws -> L) {
        self.name = name
        self.layerType = ObjectIdentifier(type)
        self.configurationOf = { configuration($0 as! L) }
        self.make = { try make($0) }
    }

    /// Registers `kind` for every later save and load in this process; a kind with the same
    /// name or class is replaced.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for a name with other characters.
    public static func register(_ kind: LayerKind) throws {
        let allowed = "abcdefghijklmnopqrstuvwxyz0123456789_-"
        guard !kind.name.isEmpty, kind.name.allSatisfy({ allowed.contains($0) }) else {
            throw BackpropError.invalidArgument(
                "layer kind name '\(kind.name)' must be lowercase letters, digits, '_' or '-'")
        }
        registry.withLock { kinds in
            kinds.removeAll { $0.name == kind.name || $0.layerType == kind.layerType }
            kinds.append(kind)
        }
    }

    /// Every known kind: the built-in ones, then those registered.
    public static var all: [LayerKind] { registry.withLock { $0 } }

    /// The kind named `name`.
    public static func named(_ name: String) -> LayerKind? { all.first { $0.name == name } }

    /// The kind of `layer`'s exact class.
    public static func of(_ layer: any Layer) -> LayerKind? {
        let type = ObjectIdentifier(Swift.type(of: layer))
        return all.first { $0.layerType == type }
    }

    /// `layer` as architecture text (`name` or `name:configuration`).
    /// - Throws: ``BackpropError/invalidArgument(_:)`` when no kind describes it.
    public static func text(of layer: any Layer) throws -> String {
        guard let kind = of(layer) else {
            throw BackpropError.invalidArgument(
                "\(layer.summary) cannot be saved: no layer kind is registered for \(Swift.type(of: layer)) "
                    + "(register one with LayerKind.register; known: \(all.map(\.name).joined(separator: ", ")))")
        }
        if let inner = layer as? Sequential { return "sequential:[" + (try Architecture.describe(inner)) + "]" }
        let configuration = kind.configurationOf(layer)
        guard !configuration.contains(","), !configuration.contains("["), !configuration.contains("]") else {
            throw BackpropError.invalidArgument("\(layer.summary): layer kind '\(kind.name)' gave a configuration with ',', '[' or ']'")
        }
        return configuration.isEmpty ? kind.name : kind.name + ":" + configuration
    }

    private static let registry = LockedKinds(builtinLayerKinds)
}

/// The kinds list behind a mutex, so registration from any thread is safe.
private final class LockedKinds: @unchecked Sendable {
    private var kinds: [LayerKind]
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ kinds: [LayerKind]) {
        self.kinds = kinds
        pthread_mutex_init(mutex, nil)
    }

    func withLock<T>(_ body: (inout [LayerKind]) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&kinds)
    }
}
