import Foundation
import Testing
@testable import Backprop

// MARK: - Helpers shared with SafeTensorsTests

/// The package root, found from this file's path (Tests/BackpropTests/LoaderTests.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
/// Real datasets shared by the project's worktrees: ../shared/data from the package root.
let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path

/// A fresh empty directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = try TestScratch.directory("scoped")
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Writes `bytes` to `directory/name` and returns the path.
@discardableResult
func writeFile(_ directory: String, _ name: String, _ bytes: [UInt8]) throws -> String {
    let path = directory + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Expects `body` to throw `malformedFile` for `path`, at `location` when given, with a
/// message containing `fragment`; the error's one-line text must name the file.
func expectMalformed(path: String, location: String? = nil, containing fragment: String,
                     sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a malformedFile error containing '\(fragment)'", sourceLocation: sourceLocation)
    } catch let BackpropError.malformedFile(errorPath, errorLocation, message) {
        #expect(errorPath == path, sourceLocation: sourceLocation)
        if let location { #expect(errorLocation == location, "message: \(message)", sourceLocation: sourceLocation) }
        #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
        let line = BackpropError.malformedFile(path: errorPath, location: errorLocation, message: message).description
        #expect(line.hasPrefix(path) && !line.contains("\n"), sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected malformedFile, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw an `io` error for `path` whose message contains `fragment`.
func expectIO(path: String, containing fragment: String,
              sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an io error containing '\(fragment)'", sourceLocation: sourceLocation)
    } catch let BackpropError.io(errorPath, message) {
        #expect(errorPath == path, sourceLocation: sourceLocation)
        #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected io, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Big-endian bytes of an IDX header: magic then dimension sizes.
func idxHeader(_ magic: UInt32, _ dims: [UInt32]) -> [UInt8] {
    ([magic] + dims).flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
}

// MARK: - Files and gzip

@Suite struct GzipTests {
    let digitsGz = packageRoot.appendingPathComponent("Sources/Backprop/Resources/digits.csv.gz").path

    @Test func inflatesGzipAndPassesPlainFilesThrough() throws {
        let text = try readFileMaybeGzip(path: digitsGz)
        #expect(text.filter { $0 == UInt8(ascii: "\n") }.count == 1797)
        try withTemporaryDirectory { dir in
            let plain = try writeFile(dir, "plain.csv", Array("1,2\n".utf8))
            #expect(try readFileMaybeGzip(path: plain) == Array("1,2\n".utf8))
        }
    }

    @Test func concatenatedMembersInflateInSequence() throws {
        let member = try readFileBytes(path: digitsGz, expected: "gzip")
        let single = try gunzip(member, path: "x.gz")
        #expect(try gunzip(member + member, path: "x.gz") == single + single)
    }

    @Test func missingDirectoryAndEmptyFilesAreIOErrors() throws {
        try withTemporaryDirectory { dir in
            expectIO(path: dir + "/nope.csv", containing: "expected a CSV file") {
                _ = try readFileMaybeGzip(path: dir + "/nope.csv", expected: "a CSV file")
            }
            expectIO(path: dir, containing: "is a directory") { _ = try readFileMaybeGzip(path: dir) }
            let empty = try writeFile(dir, "empty.csv", [])
            expectIO(path: empty, containing: "file is empty") { _ = try readFileMaybeGzip(path: empty) }
        }
    }

    @Test func gzNameWithoutGzipDataIsMalformed() throws {
        try withTemporaryDirectory { dir in
            let path = try writeFile(dir, "data.csv.gz", Array("1,2\n".utf8))
            expectMalformed(path: path, location: "byte 0", containing: "found 31 2c") {
                _ = try readFileMaybeGzip(path: path)
            }
        }
    }

    /// A member whose data runs past the size its trailer declares (ISIZE) stops at the first
    /// 64 KiB chunk past it, long before its end and well within the memory cap; concatenated
    /// members, each with its own ISIZE, are still inflated whatever their order.
    @Test func inflationStopsAtTheSizeTheTrailerDeclares() throws {
        try withTemporaryDirectory { dir in
            let raw = try writeFile(dir, "zeros", Array(repeating: 0, count: 4 << 20))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-kn", raw]
            try process.run()
            process.waitUntilExit()
            let big = try readFileBytes(path: raw + ".gz", expected: "gzip")
            #expect(try gunzip(big, path: "z.gz").count == 4 << 20)

            var forged = big  // ISIZE (the last 4 bytes, little-endian) says 1000 bytes
            forged.replaceSubrange((big.count - 4)..., with: [0xe8, 0x03, 0, 0])
            var stoppedAt = Int.max
            expectMalformed(path: "z.gz", containing: "gzip data inflates past the 1000 bytes its trailer declares (ISIZE") {
                do { _ = try gunzip(forged, path: "z.gz") } catch BackpropError.malformedFile(_, let location, let message) {
                    stoppedAt = Int(location.dropFirst("byte ".count)) ?? Int.max
                    throw BackpropError.malformedFile(path: "z.gz", location: location, message: message)
                }
            }
            #expect(stoppedAt < big.count / 2, "stopped at byte \(stoppedAt) of \(big.count): not early")

            let small = Array(Self.smallMember)
            #expect(try gunzip(big + small, path: "z.gz").count == (4 << 20) + 4)
            #expect(try gunzip(small + big + small, path: "z.gz").count == (4 << 20) + 8)
            expectMalformed(path: "z.gz", containing: "past the 1000 bytes its trailer declares") {
                _ = try gunzip(small + forged, path: "z.gz")
            }
        }
    }

    /// gzip -n of "1,2\n".
    static let smallMember: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 0, 3, 51, 212, 49, 226, 2, 0, 51, 66, 33, 85, 4, 0, 0, 0,
    ]

    @Test func truncatedCorruptAndTrailingDataAreReportedWithOffsets() throws {
        let good = try readFileBytes(path: digitsGz, expected: "gzip")
        let cut = Array(good[..<(good.count / 2)])
        expectMalformed(path: "d.gz", location: "byte \(cut.count)", containing: "truncated gzip data") {
            _ = try gunzip(cut, path: "d.gz")
        }
        var badCRC = good
        badCRC[good.count - 6] ^= 0xFF  // inside the CRC-32 of the trailer
        expectMalformed(path: "d.gz", containing: "incorrect data check") { _ = try gunzip(badCRC, path: "d.gz") }
        expectMalformed(path: "d.gz", location: "byte \(good.count)", containing: "3 bytes of trailing data") {
            _ = try gunzip(good + [1, 2, 3], path: "d.gz")
        }
    }
}

// MARK: - IDX / MNIST

@Suite struct IDXTests {
    @Test func loadsMNIST5k() throws {
        let (train, test) = try MNIST.load(directory: sharedData + "/mnist-5k")
        #expect(train.count == 4000 && test.count == 1000)
        #expect(train.featureCount == 784 && test.featureCount == 784)
        #expect(train.outputCount == 10)
        #expect(train.imageShape! == (28, 28))
        let pixels = train.features.scalars
        #expect(pixels.min() == 0 && pixels.max() == 1)
        #expect(Set(train.labels!) == Set(0...9) && Set(test.labels!) == Set(0...9))
    }

    @Test func smallFileLoadsExactValues() throws {
        try withTemporaryDirectory { dir in
            let images = try writeFile(dir, "i", idxHeader(0x803, [2, 2, 3]) + [0, 51, 255, 0, 0, 0, 255, 255, 255, 102, 0, 1])
            let labels = try writeFile(dir, "l", idxHeader(0x801, [2]) + [7, 0])
            let loaded = try IDX.loadImages(path: images)
            #expect(loaded.height == 2 && loaded.width == 3)
            #expect(loaded.pixels.row(0) == [0, 0.2, 1, 0, 0, 0])
            #expect(loaded.pixels[1, 3] == 0.4)
            #expect(try IDX.loadLabels(path: labels) == [7, 0])
            let data = try MNIST.loadPair(imagesPath: images, labelsPath: labels)
            #expect(data.count == 2 && data.outputCount == 10 && data.imageShape! == (2, 3))
        }
    }

    @Test func headerErrorsNameTheByte() throws {
        try withTemporaryDirectory { dir in
            let swapped = try writeFile(dir, "swapped", idxHeader(0x801, [1]) + [3])
            expectMalformed(path: swapped, location: "byte 0", containing: "images and labels swapped") {
                _ = try IDX.loadImages(path: swapped)
            }
            let short = try writeFile(dir, "short", [0, 0, 8])
            expectMalformed(path: short, location: "byte 0", containing: "too short") {
                _ = try IDX.loadLabels(path: short)
            }
            let cutHeader = try writeFile(dir, "cut", idxHeader(0x803, [1, 28]))
            expectMalformed(path: cutHeader, location: "byte 12", containing: "ends inside the 16-byte header") {
                _ = try IDX.loadImages(path: cutHeader)
            }
            let zero = try writeFile(dir, "zero", idxHeader(0x803, [1, 0, 28]))
            expectMalformed(path: zero, location: "byte 8", containing: "dimension 1 is 0") {
                _ = try IDX.loadImages(path: zero)
            }
            let huge = try writeFile(dir, "huge", idxHeader(0x803, [.max, .max, .max]))
            expectMalformed(path: huge, location: "byte 8", containing: "multiply past the largest integer") {
                _ = try IDX.loadImages(path: huge)
            }
        }
    }

    @Test func dataMustMatchTheHeader() throws {
        try withTemporaryDirectory { dir in
            let truncated = try writeFile(dir, "t", idxHeader(0x803, [2, 2, 3]) + [UInt8](repeating: 1, count: 7))
            expectMalformed(path: truncated, location: "byte 23", containing: "2×2×3 = 12 bytes of data from byte 16") {
                _ = try IDX.loadImages(path: truncated)
            }
            let extra = try writeFile(dir, "e", idxHeader(0x801, [2]) + [1, 2, 3])
            expectMalformed(path: extra, location: "byte 10", containing: "1 unexpected bytes") {
                _ = try IDX.loadLabels(path: extra)
            }
            let badLabel = try writeFile(dir, "b", idxHeader(0x801, [3]) + [1, 12, 2])
            expectMalformed(path: badLabel, location: "byte 9", containing: "label 12 of item 1 is outside 0...9") {
                _ = try IDX.loadLabels(path: badLabel)
            }
        }
    }

    @Test func imageAndLabelCountsMustAgree() throws {
        try withTemporaryDirectory { dir in
            let images = try writeFile(dir, "i", idxHeader(0x803, [2, 1, 1]) + [0, 1])
            let labels = try writeFile(dir, "l", idxHeader(0x801, [3]) + [0, 1, 2])
            expectMalformed(path: labels, location: "byte 4", containing: "3 labels but \(images) has 2 images") {
                _ = try MNIST.loadPair(imagesPath: images, labelsPath: labels)
            }
        }
    }

    @Test func missingMNISTFileNamesIt() throws {
        try withTemporaryDirectory { dir in
            expectIO(path: dir + "/train-images-idx3-ubyte", containing: "nor train-images-idx3-ubyte.gz") {
                _ = try MNIST.load(directory: dir)
            }
        }
    }
}

// MARK: - CSV

@Suite struct CSVTests {
    func parse(_ text: String, label: CSV.LabelColumn = .index(-1), targets: TargetKind = .labels,
               header: Bool? = nil) throws -> Dataset {
        try CSV.parse(bytes: Array(text.utf8), path: "t.csv", labelColumn: label, targets: targets, header: header)
    }

    @Test func builtinDigits() throws {
        let digits = try BuiltinDatasets.digits()
        #expect(digits.count == 1797 && digits.featureCount == 64 && digits.outputCount == 10)
        #expect(digits.imageShape! == (8, 8))
        #expect(digits.features.scalars.max() == 16 && digits.features.scalars.min() == 0)
        #expect(digits.labels!.prefix(3) == [0, 1, 2])
        #expect(digits.features.row(0).prefix(6) == [0, 0, 5, 13, 9, 1])
    }

    @Test func sharedDigitsFileMatchesTheResource() throws {
        let file = try CSV.load(path: sharedData + "/digits.csv.gz")
        let builtin = try BuiltinDatasets.digits()
        #expect(file.features.scalars == builtin.features.scalars && file.labels == builtin.labels)
    }

    @Test func headerIsDetectedAndLabelFoundByName() throws {
        let data = try parse("a,label,b\n1,0,2\n3,2,4.5\n", label: .name("label"))
        #expect(data.features.nested == [[1, 2], [3, 4.5]])
        #expect(data.labels == [0, 2] && data.outputCount == 3)
        let noHeader = try parse("1,0,2\n3,1,4\n", label: .index(-2))
        #expect(noHeader.count == 2 && noHeader.labels == [0, 1] && noHeader.features.row(1) == [3, 4])
        let forced = try parse("1,0\n3,1\n", label: .index(0), header: true)
        #expect(forced.count == 1 && forced.labels == [3] && forced.features.row(0) == [1])
        #expect(throws: BackpropError.invalidArgument("image shape 2×2 does not match the 2 features of t.csv")) {
            _ = try CSV.parse(bytes: Array("1,0,2\n".utf8), path: "t.csv", imageShape: (2, 2))
        }
    }

    @Test func quotesCRLFBlankLinesAndBOM() throws {
        let text = "\u{FEFF}\"x, the first\",\"say \"\"y\"\"\",class\r\n\r\n \"1.5\" ,-2e1,1\r\n\n3,4,0"
        let data = try parse(text, label: .name("class"))
        #expect(data.features.nested == [[1.5, -20], [3, 4]])
        #expect(data.labels == [1, 0])
        expectMalformed(path: "t.csv", location: "line 1", containing: "columns: x, the first, say \"y\", class") {
            _ = try parse(text, label: .name("missing"))
        }
    }

    @Test func regressionTargets() throws {
        let data = try parse("x,y\n1,0.5\n2,-1.25\n", targets: .values)
        guard case .values(let y) = data.targets else { Issue.record("expected values"); return }
        #expect(y.rows == 2 && y.cols == 1 && y.scalars == [0.5, -1.25])
    }

    @Test func badCellsNameLineAndColumn() throws {
        expectMalformed(path: "t.csv", location: "line 3, column 2", containing: "'abc' is not a number") {
            _ = try parse("a,b,c\n1,2,0\n1,abc,0\n")
        }
        expectMalformed(path: "t.csv", location: "line 2, column 1", containing: "empty cell") { _ = try parse("1,2,0\n,2,0\n") }
        expectMalformed(path: "t.csv", location: "line 2, column 1", containing: "NaN and infinities") {
            _ = try parse("1,2,0\nnan,2,0\n")
        }
        expectMalformed(path: "t.csv", location: "line 1, column 2", containing: "not a finite") { _ = try parse("1,-inf,0\n") }
        expectMalformed(path: "t.csv", location: "line 1, column 1", containing: "not a finite") { _ = try parse("1e39,1,0\n") }
        expectMalformed(path: "t.csv", location: "line 3", containing: "2 columns, but line 1 has 3") {
            _ = try parse("1,2,0\n1,2,0\n1,2\n")
        }
        expectMalformed(path: "t.csv", location: "line 2, column 1", containing: "quoted field is never closed") {
            _ = try parse("1,2\n\"3,4\n")
        }
    }

    @Test func badLabels() throws {
        expectMalformed(path: "t.csv", location: "line 2, column 3", containing: "label 2.5 is not a non-negative integer") {
            _ = try parse("1,2,0\n1,2,2.5\n")
        }
        expectMalformed(path: "t.csv", location: "line 1, column 3", containing: "label -1 is not a non-negative integer") {
            _ = try parse("1,2,-1\n")
        }
        expectMalformed(path: "t.csv", location: "line 2, column 3", containing: "label 'cat' is not an integer class id") {
            _ = try parse("1,2,0\n1,2,cat\n", header: false)
        }
        expectMalformed(path: "t.csv", location: "line 1", containing: "label column 5 does not exist: the file has 3 columns") {
            _ = try parse("1,2,0\n", label: .index(5))
        }
        expectMalformed(path: "t.csv", location: "line 1", containing: "label column -4 does not exist") {
            _ = try parse("1,2,0\n", label: .index(-4))
        }
        expectMalformed(path: "t.csv", location: "line 1", containing: "needs a header row") {
            _ = try parse("1,2,0\n", label: .name("y"))
        }
    }

    @Test func emptyBlankAndHeaderOnlyFiles() throws {
        try withTemporaryDirectory { dir in
            let empty = try writeFile(dir, "empty.csv", [])
            expectIO(path: empty, containing: "file is empty; expected a CSV file") { _ = try CSV.load(path: empty) }
            let blank = try writeFile(dir, "blank.csv", Array("\n \n\r\n".utf8))
            expectMalformed(path: blank, containing: "no data rows") { _ = try CSV.load(path: blank) }
            let headerOnly = try writeFile(dir, "h.csv", Array("a,b,label\n".utf8))
            expectMalformed(path: headerOnly, location: "line 1", containing: "header only") { _ = try CSV.load(path: headerOnly) }
            let single = try writeFile(dir, "s.csv", Array("1\n2\n".utf8))
            expectMalformed(path: single, location: "line 1", containing: "only one column") { _ = try CSV.load(path: single) }
        }
    }
}

// MARK: - Generators

@Suite struct GeneratorTests {
    @Test func edgesAreBalancedSeededAndShaped() throws {
        let a = try Generators.edges(count: 200, seed: 7)
        let b = try Generators.edges(count: 200, seed: 7)
        let c = try Generators.edges(count: 200, seed: 8)
        #expect(a.features.scalars == b.features.scalars && a.labels == b.labels)
        #expect(a.features.scalars != c.features.scalars)
        #expect(a.featureCount == 25 && a.imageShape! == (5, 5) && a.outputCount == 2)
        #expect(a.labels!.filter { $0 == 1 }.count == 100)
        #expect(a.features.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Every positive is dark in its first column and bright in its last.
        for i in 0..<a.count where a.labels![i] == 1 {
            let left = (0..<5).map { a.features[i, $0 * 5] }.reduce(0, +) / 5
            let right = (0..<5).map { a.features[i, $0 * 5 + 4] }.reduce(0, +) / 5
            #expect(right - left > 0.3)
        }
        #expect(throws: BackpropError.invalidArgument("edges needs count >= 1, got 0")) {
            _ = try Generators.edges(count: 0, seed: 1)
        }
    }

    @Test func xorAsValuesAndLabels() throws {
        let values = Generators.xor()
        guard case .values(let y) = values.targets else { Issue.record("expected values"); return }
        #expect(values.features.nested == [[0, 0], [0, 1], [1, 0], [1, 1]])
        #expect(y.rows == 4 && y.cols == 1 && y.scalars == [0, 1, 1, 0])
        let labels = Generators.xor(targets: .labels)
        #expect(labels.labels == [0, 1, 1, 0] && labels.outputCount == 2)
    }
}

// MARK: - Normalization

@Suite struct NormalizationTests {
    // Feature 0 varies, feature 1 is constant.
    let train = try! Tensor([[1, 5], [3, 5], [5, 5]])

    @Test func scaleMapsTrainingRangeToUnitInterval() throws {
        let n = Normalizer(fitting: .scale, to: train)
        #expect(try n.apply(to: train).nested == [[0, 0], [0.5, 0], [1, 0]])
        // Test data uses the training parameters, so it may leave [0, 1].
        #expect(try n.apply(to: Tensor([[7, 6]])).nested == [[1.5, 1]])
    }

    @Test func standardizeCentresAndLeavesConstantFeaturesUnscaled() throws {
        let n = Normalizer(fitting: .standardize, to: train)
        let z = try n.apply(to: train)
        let column = (0..<3).map { z[$0, 0] }
        #expect(isClose(column.reduce(0, +), 0, abs: 1e-6))
        #expect(isClose(column.map { $0 * $0 }.reduce(0, +) / 3, 1, abs: 1e-5))
        #expect((0..<3).allSatisfy { z[$0, 1] == 0 } && n.divisor[1] == 1)
        #expect(try Normalizer(fitting: .none, to: train).apply(to: train).scalars == train.scalars)
    }

    @Test func parametersRoundTripAndAreValidated() throws {
        let n = Normalizer(fitting: .standardize, to: train)
        #expect(n.parameters.count == 4)
        #expect(try Normalizer(kind: .standardize, parameters: n.parameters) == n)
        #expect(throws: BackpropError.self) { _ = try Normalizer(kind: .scale, parameters: [1, 2, 3]) }
        #expect(throws: BackpropError.self) { _ = try Normalizer(kind: .scale, parameters: [1, 0]) }
        #expect(throws: BackpropError.shapeMismatch("normalizer was fitted on 2 features but the data has 3")) {
            _ = try n.apply(to: Tensor([[1, 2, 3]]))
        }
        let dataset = try n.apply(to: Generators.xor(targets: .labels))
        #expect(dataset.labels == [0, 1, 1, 0] && dataset.features.rows == 4)
    }
}
