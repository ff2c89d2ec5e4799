import Foundation
import Testing
@testable import Backprop

/// An environment where the OpenBLAS loader skips the library, as on a machine without it.
private let withoutOpenBLAS = ["BACKPROP_OPENBLAS_DISABLE": "1"]

@Suite("Backend registry")
struct RegistryTests {
    @Test("the built-in backends come first, fastest first")
    func names() {
        // Other suites (and loaded plugins) may register more after these.
        #expect(Array(BackendRegistry.names.prefix(3)) == ["c", "openblas", "swift"])
    }

    @Test("an unknown name is an error that lists the known names")
    func unknownName() {
        do {
            _ = try BackendRegistry.make(name: "cuda", threads: 1, environment: [:])
            Issue.record("'cuda' was found")
        } catch let BackpropError.unknownBackend(name, known) {
            #expect(name == "cuda" && Array(known.prefix(3)) == ["c", "openblas", "swift"])
        } catch {
            Issue.record("unexpected \(error)")
        }
        let message = BackpropError.unknownBackend(name: "cuda", known: ["c", "openblas", "swift"]).description
        #expect(message == "unknown backend 'cuda'; known backends: c, openblas, swift")
    }

    @Test("make builds the named backend")
    func makeByName() throws {
        #expect(try BackendRegistry.make(name: "swift", threads: 1, environment: [:]).name == "swift")
        #expect(try Backprop.backend(named: "swift").name == "swift")
        #expect(SwiftBackend().name == "swift")
    }

    @Test("BACKPROP_BACKEND chooses the default backend")
    func environmentChoosesBackend() throws {
        let chosen = try BackendRegistry.default(threads: 1, environment: ["BACKPROP_BACKEND": "swift"])
        #expect(chosen.name == "swift")
    }

    @Test("a bad BACKPROP_BACKEND is an error, never a fallback")
    func environmentErrors() {
        #expect {
            try BackendRegistry.default(threads: 1, environment: ["BACKPROP_BACKEND": "gpu"])
        } throws: { error in
            if case BackpropError.unknownBackend(name: "gpu", _) = error { return true }
            return false
        }
        var environment = withoutOpenBLAS
        environment["BACKPROP_BACKEND"] = "openblas"
        #expect {
            try BackendRegistry.default(threads: 1, environment: environment)
        } throws: { error in
            guard case BackpropError.backendUnavailable(name: "openblas", _) = error else { return false }
            return true
        }
    }

    @Test("without BACKPROP_BACKEND the first available backend is the default")
    func fastestAvailable() throws {
        let entries = try BackendRegistry.entries(threads: 1, environment: [:])
        let expected = entries.first(where: \.available)?.name
        #expect(try BackendRegistry.default(threads: 1, environment: [:]).name == expected)
        // With OpenBLAS skipped the choice moves down the list, and swift always remains.
        let fallback = try BackendRegistry.default(threads: 1, environment: withoutOpenBLAS).name
        #expect(fallback != "openblas")
        #expect(try BackendRegistry.entries(threads: 1, environment: withoutOpenBLAS)
            .first(where: \.available)?.name == fallback)
    }

    @Test("OpenBLAS skipped: unavailable with the install hint, swift unaffected",
          arguments: [withoutOpenBLAS, ["BACKPROP_OPENBLAS_LIBRARY": "/nonexistent.so"]])
    func openBLASAbsent(environment: [String: String]) throws {
        #expect {
            try BackendRegistry.make(name: "openblas", threads: 1, environment: environment)
        } throws: { error in
            guard case BackpropError.backendUnavailable(name: "openblas", let reason) = error else { return false }
            return reason.contains("apt-get install libopenblas0")
        }
        #expect(throws: BackpropError.self) { try OpenBLASBackend(threads: 1, environment: environment) }
        let entries = try BackendRegistry.entries(threads: 1, environment: environment)
        let openblas = try #require(entries.first { $0.name == "openblas" })
        #expect(!openblas.available)
        #expect(openblas.reason?.contains("libopenblas-dev") == true)
        #expect(entries.first { $0.name == "swift" }?.available == true)
        #expect(try BackendRegistry.make(name: "swift", threads: 1, environment: environment).name == "swift")
    }

    @Test("a library without the OpenBLAS entry points is refused")
    func notOpenBLAS() {
        let failure = OpenBLASLoader.load(environment: ["BACKPROP_OPENBLAS_LIBRARY": "libm.so.6"])
        guard case .failure(let reason) = failure else {
            Issue.record("libm was accepted as OpenBLAS")
            return
        }
        #expect(reason.reason.contains("is not OpenBLAS"))
    }

    @Test("OpenBLAS, where installed, reports its build and keeps its own thread count")
    func openBLASPresent() throws {
        switch OpenBLASLoader.load(environment: [:]) {
        case .failure(let failure):
            // Not installed here: the reason must say how to install it.
            #expect(failure.reason.contains("apt-get install libopenblas0"))
        case .success(let library):
            #expect(library.config.hasPrefix("OpenBLAS"))
            let one = try OpenBLASBackend(threads: 1, environment: [:])
            let two = try OpenBLASBackend(threads: 2, environment: [:])
            #expect(one.detail.contains(library.config) && one.detail.contains("1 thread"))
            #expect(two.threads == 2 && two.libraryThreads == 2)
            // A GEMM on `one` puts OpenBLAS back to one thread although `two` was built last.
            var c: [Float] = [0]
            one.gemm(transA: false, transB: false, m: 1, n: 1, k: 1, alpha: 1, a: [2], lda: 1,
                     b: [3], ldb: 1, beta: 0, c: &c, ldc: 1)
            #expect(c == [6] && one.libraryThreads == 1)
        }
    }

    @Test("the JSON of an entry has every key, reason null when available")
    func entryJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let info = BackendInfo(name: "swift", available: true, reason: nil, detail: "d")
        let json = String(decoding: try encoder.encode(info), as: UTF8.self)
        #expect(json == #"{"available":true,"detail":"d","name":"swift","reason":null}"#)
    }
}

@Suite("Thread settings")
struct ThreadSettingsTests {
    @Test("explicit > BACKPROP_NUM_THREADS > OMP_NUM_THREADS > cores")
    func order() throws {
        let both = ["BACKPROP_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"]
        #expect(try ThreadSettings.resolve(7, environment: both) == 7)
        #expect(try ThreadSettings.resolve(nil, environment: both) == 3)
        #expect(try ThreadSettings.resolve(nil, environment: ["OMP_NUM_THREADS": "5"]) == 5)
        #expect(try ThreadSettings.resolve(nil, environment: [:]) == ThreadSettings.activeCores)
        #expect(ThreadSettings.activeCores >= 1)
    }

    @Test("an explicit count wins over a bad variable")
    func explicitWins() throws {
        #expect(try ThreadSettings.resolve(2, environment: ["BACKPROP_NUM_THREADS": "many"]) == 2)
    }

    @Test("OpenMP lists use their first entry; empty variables count as unset")
    func lenientForms() throws {
        #expect(try ThreadSettings.resolve(nil, environment: ["OMP_NUM_THREADS": "4,2"]) == 4)
        #expect(try ThreadSettings.resolve(nil, environment: ["BACKPROP_NUM_THREADS": " 6 "]) == 6)
        #expect(try ThreadSettings.resolve(nil, environment: ["BACKPROP_NUM_THREADS": "", "OMP_NUM_THREADS": "2"]) == 2)
    }

    @Test("bad values are errors that name the variable",
          arguments: [("BACKPROP_NUM_THREADS", "abc"), ("BACKPROP_NUM_THREADS", "0"),
                      ("OMP_NUM_THREADS", "-2"), ("OMP_NUM_THREADS", "2.5")])
    func badValues(variable: String, value: String) {
        #expect {
            try ThreadSettings.resolve(nil, environment: [variable: value])
        } throws: { error in
            guard case BackpropError.invalidArgument(let message) = error else { return false }
            return message.hasPrefix("\(variable)='\(value)'")
        }
    }

    @Test("an explicit count below 1 is an invalid argument, also through the registry")
    func explicitBelowOne() {
        #expect(throws: BackpropError.self) { try ThreadSettings.resolve(0, environment: [:]) }
        #expect(throws: BackpropError.self) { try BackendRegistry.entries(threads: -1, environment: [:]) }
        #expect(throws: BackpropError.self) { try BackendRegistry.make(name: "swift", threads: 0, environment: [:]) }
    }
}
