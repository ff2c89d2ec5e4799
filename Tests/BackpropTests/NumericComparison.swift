// The one numeric comparison every test uses. It is NaN-safe by construction:
// - an error is never NaN: a NaN, or an infinity the expected value does not have, makes the
//   error +∞, so `error <= tolerance` fails (`max(worst, .nan)` would have kept `worst`);
// - NaN matches NaN only where the caller says NaN is the specified answer (`nanMatches`);
// - ±∞ matches only the same infinity;
// - arrays of different lengths never match.

/// How far `got` is from `want`, for one element: 0 when equal (−0 equals +0), +∞ when they
/// differ in kind (a NaN, or an infinity), else |got − want|.
func elementError(_ got: Double, _ want: Double, nanMatches: Bool = false) -> Double {
    if want.isNaN || got.isNaN { return want.isNaN && got.isNaN && nanMatches ? 0 : .infinity }
    if got == want { return 0 }
    if !got.isFinite || !want.isFinite { return .infinity }
    return abs(got - want)
}

/// The largest ``elementError`` over two sequences (+∞ when their lengths differ; 0 when both are empty).
func worstError<G: Collection, W: Collection>(
    _ got: G, _ want: W, nanMatches: Bool = false
) -> Double where G.Element: BinaryFloatingPoint, W.Element: BinaryFloatingPoint {
    guard got.count == want.count else { return .infinity }
    var worst = 0.0
    for (g, w) in zip(got, want) {
        let e = elementError(Double(g), Double(w), nanMatches: nanMatches)
        if !(e <= worst) { worst = e }
    }
    return worst
}

/// True when every |got − want| ≤ abs + rel·|want| (NaN rules as in ``elementError``).
/// Written as `!(error <= allowed)` so that a NaN anywhere can only fail.
func allClose<G: Collection, W: Collection>(
    _ got: G, _ want: W, abs absolute: Double = 0, rel: Double = 0, nanMatches: Bool = false
) -> Bool where G.Element: BinaryFloatingPoint, W.Element: BinaryFloatingPoint {
    guard got.count == want.count else { return false }
    for (g, w) in zip(got, want) {
        if !isClose(Double(g), Double(w), abs: absolute, rel: rel, nanMatches: nanMatches) { return false }
    }
    return true
}

/// One value: |got − want| ≤ abs + rel·|want|, NaN-safe.
func isClose<T: BinaryFloatingPoint>(
    _ got: T, _ want: T, abs absolute: Double = 0, rel: Double = 0, nanMatches: Bool = false
) -> Bool {
    let error = elementError(Double(got), Double(want), nanMatches: nanMatches)
    // An exact match (NaN matching NaN, or equal infinities) passes before the tolerance, whose
    // relative term would be NaN or ∞ for a non-finite `want`.
    return error == 0 || error <= absolute + rel * Swift.abs(Double(want))
}

/// The largest |value| of a sequence; +∞ when it holds a NaN or an infinity.
func largestMagnitude<S: Sequence>(_ values: S) -> Double where S.Element: BinaryFloatingPoint {
    var largest = 0.0
    for v in values {
        let m = elementError(Double(v), 0)
        if !(m <= largest) { largest = m }
    }
    return largest
}

/// Exact equality element by element, with NaN matching NaN (for hand-written expectations
/// where NaN is the specified answer); −0 equals +0.
func sameValues<G: Collection, W: Collection>(_ got: G, _ want: W) -> Bool
where G.Element: BinaryFloatingPoint, W.Element: BinaryFloatingPoint {
    allClose(got, want, nanMatches: true)
}

/// Fails when a parameter list for a parameterized test is empty, which would silently run
/// nothing: returns the list, or traps at suite set-up with the reason.
func nonEmpty<T>(_ list: [T], _ what: String) -> [T] {
    precondition(!list.isEmpty, "\(what) is empty: the parameterized tests would run nothing")
    return list
}
