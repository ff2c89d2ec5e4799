/// How one op of one backend compares with the reference over every case ``OpVerifier`` ran.
public struct VerificationRecord: Sendable, Equatable, Codable {
    /// The backend's registry name.
    public let backend: String
    /// The op compared.
    public let op: VerifiedOp
    /// The largest |result − reference| over every element of every case.
    public let maxAbsError: Double
    /// The largest normwise relative error of a case: max|result − reference| / max|reference|.
    public let maxRelError: Double
    /// The largest ratio |result − reference| / allowed; the op passes when it is at most 1.
    public let worstRatio: Double
    /// The tolerance as text (``Tolerance/description``).
    public let tolerance: String
    /// Whether ``worstRatio`` is at most 1.
    public let pass: Bool
    /// The case with the largest ``worstRatio``, e.g. `m=127 n=33 k=255 transA ...`.
    public let worstCase: String
    /// How many cases ran.
    public let cases: Int
}

/// Accumulates the errors of one op across cases.
struct ErrorMeter {
    let tolerance: Tolerance
    private(set) var cases = 0
    private(set) var maxAbs = 0.0
    private(set) var maxRel = 0.0
    private(set) var worstRatio = 0.0
    private(set) var worstCase = ""
    // The case being measured.
    private var caseAbs = 0.0
    private var caseMagnitude = 0.0
    private var caseRatio = 0.0

    init(tolerance: Tolerance) { self.tolerance = tolerance }

    /// Compares one element; `allowed` is the tolerance for it. NaN never equals NaN unless
    /// `nanExpected` says the inputs were chosen so that NaN is the specified answer (a case
    /// with NaN or ∞ in its inputs); a NaN anywhere else, or an infinity on one side only, is
    /// an infinite error. No comparison with NaN can lower the error (`max(x, .nan)` is x).
    mutating func compare(_ result: Double, _ reference: Double, allowed: Double, nanExpected: Bool = false) {
        let difference: Double
        if result.isNaN || reference.isNaN {
            difference = result.isNaN && reference.isNaN && nanExpected ? 0 : .infinity
        } else if result == reference {
            difference = 0
        } else {
            let d = abs(result - reference)
            difference = d.isFinite ? d : .infinity
        }
        if difference > caseAbs { caseAbs = difference }
        if reference.isFinite { caseMagnitude = max(caseMagnitude, abs(reference)) }
        if difference > 0 {
            let ratio = allowed > 0 ? difference / allowed : .infinity
            if !(ratio <= caseRatio) { caseRatio = ratio.isNaN ? .infinity : ratio }
        }
    }

    /// Compares one element with the op's tolerance and no accumulation term.
    mutating func compare(_ result: Float, _ reference: Float, nanExpected: Bool = false) {
        compare(Double(result), Double(reference),
                allowed: reference.isFinite ? tolerance.allowed(reference: Double(reference)) : 0,
                nanExpected: nanExpected)
    }

    /// A value that must be exactly equal, such as a guard cell past the end of a buffer.
    mutating func compareExactly(_ result: Float, _ reference: Float) {
        compare(Double(result), Double(reference), allowed: 0)
    }

    /// Closes the current case.
    mutating func finishCase(_ description: @autoclosure () -> String) {
        cases += 1
        maxAbs = max(maxAbs, caseAbs)
        let relative = caseAbs == 0 ? 0 : caseAbs / max(caseMagnitude, Double(Float.leastNormalMagnitude))
        maxRel = max(maxRel, relative)
        // The first case stands in as "worst" until one has an error.
        if cases == 1 || caseRatio > worstRatio {
            worstCase = description()
            worstRatio = max(worstRatio, caseRatio)
        }
        caseAbs = 0
        caseMagnitude = 0
        caseRatio = 0
    }

    func record(backend: String, op: VerifiedOp) -> VerificationRecord {
        VerificationRecord(
            backend: backend, op: op, maxAbsError: maxAbs, maxRelError: maxRel,
            worstRatio: worstRatio, tolerance: tolerance.description, pass: worstRatio <= 1,
            worstCase: worstCase, cases: cases)
    }
}
