import Testing
@testable import Backprop

/// `backprop trace`'s library side: the numbers of each example come from the engine and
/// match the tutorial, and every example ends with a lower loss than it started.
@Suite struct TraceTests {
    func value(_ trace: Trace, _ step: String, _ name: String,
               sourceLocation: SourceLocation = #_sourceLocation) throws -> TraceValue {
        try #require(trace.step(step)?.value(name), "no \(name) in step \(step)", sourceLocation: sourceLocation)
    }

    @Test func workedExampleFromTheGivenLogits() throws {
        let trace = try BackpropTrace.run(.worked)
        expectClose(try value(trace, "given.softmax", "p").values, [0.659, 0.242, 0.099], 5e-4)
        #expect(isClose(try value(trace, "given.loss", "L").scalar, 0.417, abs: 5e-4))
        expectClose(try value(trace, "given.dz", "dL/dz").values, [-0.341, 0.242, 0.099], 5e-4)
        expectClose(try value(trace, "given.dx", "dL/dx").values, [-0.131, -0.036], 5e-4)
        // The stored weight is the tutorial's W transposed.
        let w = try value(trace, "layer", "W"), wT = try value(trace, "layer", "Wᵀ")
        #expect((w.rows, w.cols, wT.rows, wT.cols) == (3, 2, 2, 3))
        #expect((0..<3).allSatisfy { i in (0..<2).allSatisfy { j in w[i, j] == wT[j, i] } })
        // The wrong value of the widely copied version is named, with the right one and why.
        let notes = try #require(trace.step("given.dx")).notes.joined(separator: " ")
        #expect(notes.contains("[−0.068, −0.014]") && notes.contains("wrong") && notes.contains("[−0.131, −0.036]"))
        #expect(trace.title.contains("three-class softmax example") && trace.title.contains("[2.0, 1.0, 0.1]"))
    }

    @Test func workedExamplePyTorchCheckAndUpdate() throws {
        let trace = try BackpropTrace.run(.worked, learningRate: 0.1)
        expectClose(try value(trace, "check.forward", "z").values, [0.7, 0.5, -0.5], 1e-6)
        #expect(isClose(try value(trace, "check.loss", "L").scalar, 0.751, abs: 5e-4))
        expectClose(try value(trace, "check.dx", "dL/dx").values, [-0.207, -0.040], 5e-4)
        // dWᵀ = xᵀ·dz with x = [1, 1]: both rows equal dz; db = dz.
        let dz = try value(trace, "check.dz", "dL/dz").values
        let dW = try value(trace, "check.dW", "dL/dWᵀ")
        #expect(dW.rows == 2 && dW.cols == 3)
        expectClose(Array(dW.values[0..<3]), dz, 1e-7)
        expectClose(Array(dW.values[3..<6]), dz, 1e-7)
        expectClose(try value(trace, "check.dW", "dL/db").values, dz, 1e-7)
        // w ← w − η·dW, starting from the tutorial's first stored row [0.2, −0.3, 0.1].
        let updated = try value(trace, "update", "Wᵀ")
        expectClose(Array(updated.values[0..<3]), zip([0.2, -0.3, 0.1], dz).map { $0 - 0.1 * $1 }, 1e-6)
        #expect(trace.lossBefore == Double(try value(trace, "check.loss", "L").scalar))
        #expect(trace.lossAfter < trace.lossBefore)
        #expect(isClose(trace.lossAfter, Double(try value(trace, "after", "L").scalar), abs: 1e-6))
    }

    @Test func xorTraceFollowsTheChainRule() throws {
        let trace = try BackpropTrace.run(.xor)
        #expect(trace.steps.map(\.id) == [
            "input", "forward.z1", "forward.a1", "forward.z2", "forward.a2", "loss", "backward.da2",
            "backward.dz2", "backward.dW2", "backward.da1", "backward.dz1", "backward.dW1", "update", "after",
        ])
        let a2 = try value(trace, "forward.a2", "a2").scalar
        let dA2 = try value(trace, "backward.da2", "dL/da2").scalar
        #expect(isClose(dA2, 2 * (a2 - 1), abs: 1e-6))
        let dZ2 = try value(trace, "backward.dz2", "dL/dz2").scalar
        #expect(isClose(dZ2, dA2 * a2 * (1 - a2), abs: 1e-6))
        let dW1 = try value(trace, "backward.dW1", "dL/dW1")
        #expect(dW1.rows == 2 && dW1.cols == 2)
        // x = [1, 0]: the second input's weights get no gradient.
        #expect(dW1[1, 0] == 0 && dW1[1, 1] == 0 && dW1[0, 0] != 0)
        #expect(trace.lossAfter < trace.lossBefore)
        #expect(trace.learningRate == 0.5)
    }

    @Test func edgesTraceShapesAndSummaries() throws {
        let trace = try BackpropTrace.run(.edges)
        let shapes = [("forward.z1", "W1", 25, 8), ("forward.z1", "z1", 1, 8), ("forward.z2", "z2", 1, 2),
                      ("backward.dW1", "dL/dW1", 25, 8), ("backward.dW2", "dL/dW2", 8, 2)]
        for (step, name, rows, cols) in shapes {
            let v = try value(trace, step, name)
            #expect(v.rows == rows && v.cols == cols, "\(name) is \(v.shapeText)")
        }
        // The ASCII patch is drawn: five lines of ten characters.
        let drawing = try #require(trace.step("input")?.notes.first)
        #expect(drawing.split(separator: "\n").map(\.count) == Array(repeating: 10, count: 5))
        // Large matrices are summarized in the text: first rows and the norm, not all 25 rows.
        let text = trace.text()
        #expect(text.contains("W1 (25, 8)   ‖W1‖ = ") && text.contains("first 4 of 25 rows"))
        #expect(!text.contains("nan"))
        #expect(trace.lossAfter < trace.lossBefore)
    }

    @Test func sameTraceOnEveryRun() throws {
        #expect(try BackpropTrace.run(.edges) == BackpropTrace.run(.edges))
    }

    @Test func badLearningRateIsAnError() throws {
        #expect(throws: BackpropError.invalidArgument("the learning rate must be a positive number, got -1.0")) {
            try BackpropTrace.run(.xor, learningRate: -1)
        }
    }

    @Test func textShowsEquationsShapesAndFourDecimals() throws {
        let text = try BackpropTrace.run(.worked).text()
        #expect(text.contains("Step 1. The layer"))
        #expect(text.contains("dL/dx (1, 2) = [-0.1311, -0.0357]"))
        #expect(text.contains("z (1, 3) = [0.7000, 0.5000, -0.5000]"))
        #expect(text.contains("L = 0.7514"))
    }
}
