import Testing
@testable import Backprop

/// No built-in backend (and no plugin, whose NULL slots go to the C kernels) runs an op on the
/// Swift reference loops: `ReferenceFallbacks` must find none.
@Suite("Reference fallbacks of the built-in backends")
struct ReferenceFallbackTests {
    @Test(arguments: TestBackends.compared)
    func noBackendButTheReferenceRunsAnOpOnIt(name: String) throws {
        let backend = try TestBackends.make(name)
        #expect(ReferenceFallbacks.ops(of: backend) == [], "\(name)")
        #expect(ReferenceFallbacks.ops(of: ForwardingBackend(wrapping: backend)) == [], "forwarding \(name)")
    }

    @Test func probingIsScopedToTheProbe() {
        // Reference calls outside a probe are not recorded anywhere (no recorder is bound).
        #expect(ReferenceUse.recorder == nil)
        var x: [Float] = [1, 2]
        SwiftBackend().scale(&x, by: 2, count: 2)
        #expect(x == [2, 4] && ReferenceUse.recorder == nil)
    }
}
