import Testing
@testable import Backprop

@Suite struct TensorTests {
    @Test func storesRowMajorAndIsAligned() throws {
        let t = try Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(t.rows == 2 && t.cols == 3)
        #expect(t[1, 0] == 4)
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
        #expect(Int(bitPattern: t.data) % 64 == 0)
    }

    @Test func raggedRowsThrowWithBothLengths() {
        #expect(throws: BackpropError.shapeMismatch("row 1 has 1 values but row 0 has 2")) {
            _ = try Tensor([[1, 2], [3]])
        }
    }

    @Test func reuseKeepsStorageWhenItFits() {
        let t = Tensor(rows: 4, cols: 8)
        let smaller = Tensor.reuse(t, rows: 3, cols: 8)
        #expect(smaller === t && smaller.count == 24)
        let larger = Tensor.reuse(t, rows: 5, cols: 8)
        #expect(larger !== t && larger.count == 40)
    }
}
