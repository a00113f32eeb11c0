import Testing
@testable import GenomicData

/// `prepare` takes what users bring: several files, other tools' CSV columns, published splits.
@Suite struct PrepareInputsTests {
    let files = TestFiles()

    /// `count` distinct 8-mers starting at number `from` (base 4 digits).
    static func sequences(_ count: Int, from: Int = 0) -> [String] {
        (from ..< from + count).map { n in String((0 ..< 8).map { i in Array("ACGT")[(n >> (2 * i)) & 3] }) }
    }

    static func fasta(_ sequences: [String]) -> String {
        sequences.enumerated().map { ">s\($0.offset)\n\($0.element)\n" }.joined()
    }

    @Test func severalFilesPerClassAreAllRead() throws {
        var prep = DatasetPreparation()
        try prep.addFasta(path: files.write("p1.fa", Self.fasta(Self.sequences(10))), label: 1)
        try prep.addFasta(path: files.write("p2.fa.gz", Self.fasta(Self.sequences(10, from: 10))), label: 1)
        try prep.addFasta(path: files.write("n1.fa", Self.fasta(Self.sequences(12, from: 100))), label: 0)
        #expect(prep.sequencesByLabel[1]?.count == 20)
        #expect(prep.sequencesByLabel[0]?.count == 12)
        #expect(prep.inputs.count == 3)
        let (dataset, warnings) = try prep.prepare(seed: 1)
        #expect(warnings.isEmpty)
        #expect(DatasetSplit.allCases.reduce(0) { $0 + dataset[$1].count } == 32)
    }

    /// Issue 12: a header-only FASTA as --positive trained a one-class model to accuracy 1.0.
    @Test func aFileWithoutUsableSequencesIsAnError() {
        let path = files.write("headers.fa", ">a\n>b\n>c\nACNT\n")
        var prep = DatasetPreparation()
        let error = dataError { try prep.addFasta(path: path, label: 1) }
        #expect(error == DataError(file: path, "no usable sequence: 3 records, 2 without bases, 1 with characters other than A/C/G/T"))
    }

    /// Issue 12: three rows left the train and valid splits empty, and prepare wrote them.
    @Test func tooFewRowsForThreeSplitsIsAnError() throws {
        var prep = DatasetPreparation()
        let path = files.write("three.csv", "sequence,class\nACGTACGT,1\nCCGTACGT,1\nTTGTACGT,0\n")
        try prep.addCSV(path: path)
        let error = dataError { _ = try prep.prepare(seed: 1) }
        #expect(error?.file == path)
        #expect(error?.message.hasPrefix("the valid split is empty (train 1 (label 1: 1), valid 0, test 2 (label 1: 1, label 0: 1))") == true,
                "\(String(describing: error))")
    }

    /// Issue 12: a stray label 2 made a third class that only the test split had.
    @Test func aStrayLabelIsAnError() throws {
        let rows = Self.sequences(40).enumerated().map { "\($0.element),\($0.offset % 2)" } + ["AAAATTTT,2"]
        let path = files.write("stray.csv", "sequence,class\n" + rows.joined(separator: "\n"))
        var prep = DatasetPreparation()
        try prep.addCSV(path: path)
        let error = dataError { _ = try prep.prepare(seed: 1) }
        #expect(error == DataError(file: path, "label 2 has no train sequences (1 in test): the model could never learn it (a stray label?)"))
    }

    /// pandas' `to_csv` writes an unnamed index column first; other tools name the columns their way.
    @Test func pandasIndexAndRenamedColumns() throws {
        let rows = Self.sequences(4).enumerated().map { "\($0.offset),\($0.element),\($0.offset % 2),x" }
        let path = files.write("pandas.csv.gz", ",Seq,promoter_presence,other\n" + rows.joined(separator: "\n") + "\n")
        var prep = DatasetPreparation()
        try prep.addCSV(path: path, columns: CSVColumns(sequence: "seq", label: "Promoter_Presence"))
        #expect(prep.sequencesByLabel[0]?.count == 2 && prep.sequencesByLabel[1]?.count == 2)
        // The default names are then not required; a named column that is absent is an error.
        let missing = dataError { var p = DatasetPreparation(); try p.addCSV(path: path, columns: CSVColumns(label: "class")) }
        #expect(missing == DataError(file: path, line: 1, field: "sequence",
                                     "header row must name a 'sequence' column; found '', 'seq', 'promoter_presence', 'other'"))
    }

    @Test func aByteOrderMarkBeforeTheHeaderIsIgnored() throws {
        let path = files.write("bom.csv", "\u{FEFF}sequence,label\nACGTACGT,1\n")
        var prep = DatasetPreparation()
        try prep.addCSV(path: path)
        #expect(prep.sequencesByLabel[1]?.count == 1)
    }

    /// A published split is kept row for row (file order within each split).
    @Test func aSplitColumnIsKeptAsGiven() throws {
        let names = ["train", "Train", "valid", "validation", "test", "TEST"]
        let rows = Self.sequences(24).enumerated().map { "\($0.element),\($0.offset % 2),\(names[$0.offset % 6])" }
        let path = files.write("split.csv", "sequence,label,split\n" + rows.joined(separator: "\n") + "\n")
        var prep = DatasetPreparation()
        try prep.addCSV(path: path, columns: CSVColumns(split: "split"))
        let (dataset, warnings) = try prep.prepare(seed: 9)
        #expect(warnings.isEmpty)
        let all = Self.sequences(24).map(\.bytes)
        for (split, first) in [(DatasetSplit.train, 0), (.valid, 2), (.test, 4)] {
            let expected = all.indices.filter { $0 % 6 == first || $0 % 6 == first + 1 }
            #expect(dataset[split].sequences == expected.map { all[$0] }, "\(split)")
            #expect(dataset[split].labels == expected.map { Int32($0 % 2) }, "\(split)")
        }
        #expect(prep.report.last?.hasSuffix("column 'split': train 8, valid 8, test 8 rows") == true)
    }

    /// A prepared dataset.csv read back with its split column gives the same dataset, row for row.
    @Test func aPreparedFileReadWithItsSplitColumnIsReproducedExactly() throws {
        var prep = DatasetPreparation()
        try prep.addFasta(path: files.write("p.fa", Self.fasta(Self.sequences(30))), label: 1)
        try prep.addFasta(path: files.write("n.fa", Self.fasta(Self.sequences(25, from: 200))), label: 0)
        let (dataset, _) = try prep.prepare(seed: 42)
        let path = files.path("dataset.csv")
        try dataset.write(to: path)
        var again = DatasetPreparation()
        try again.addCSV(path: path, columns: CSVColumns(split: "split"))
        #expect(try again.prepare(seed: 7).dataset == dataset)
    }

    /// Train and test only (as Genomic Benchmarks publishes them): test stays as given, 10% of
    /// each class's train rows become valid, reproducibly.
    @Test func aSplitColumnWithoutValidRowsDrawsValidFromTrain() throws {
        let rows = Self.sequences(60).enumerated().map { "\($0.element),\($0.offset % 2),\($0.offset < 40 ? "train" : "test")" }
        let path = files.write("gb.csv", "sequence,label,split\n" + rows.joined(separator: "\n") + "\n")
        var prep = DatasetPreparation()
        try prep.addCSV(path: path, columns: CSVColumns(split: "split"))
        let (dataset, warnings) = try prep.prepare(seed: 9)
        #expect(dataset[.test].sequences == Self.sequences(60).suffix(20).map(\.bytes))
        #expect(dataset[.train].countsByLabel == [0: 18, 1: 18])   // Int(20 * 0.9) per class
        #expect(dataset[.valid].countsByLabel == [0: 2, 1: 2])
        #expect(Set(dataset[.train].sequences + dataset[.valid].sequences) == Set(Self.sequences(40).map(\.bytes)))
        #expect(warnings == ["no row's split is valid: the valid split is 10% of each class's train rows, drawn with seed 9"])
        #expect(try prep.prepare(seed: 9).dataset == dataset)
        #expect(try prep.prepare(seed: 10).dataset != dataset)
    }

    @Test func sequencesSharedBetweenGivenSplitsAreKeptAndReported() throws {
        let train = Self.sequences(20).enumerated().map { "\($0.element),\($0.offset % 2),train" }
        let rows = train + ["\(Self.sequences(1)[0]),0,test", "\(Self.sequences(2)[1]),1,valid", "GGGGAAAA,1,test", "GGGGAAAC,0,valid"]
        let path = files.write("leak.csv", "sequence,label,split\n" + rows.joined(separator: "\n") + "\n")
        var prep = DatasetPreparation()
        try prep.addCSV(path: path, columns: CSVColumns(split: "split"))
        let (dataset, warnings) = try prep.prepare(seed: 1)
        #expect(dataset[.test].count == 2 && dataset[.valid].count == 2)
        #expect(warnings.contains("1 test sequences also appear in train (kept: the split column says so)"))
        #expect(warnings.contains("1 valid sequences also appear in train (kept: the split column says so)"))
    }

    @Test func anUnknownSplitValueNamesFileAndLine() {
        let path = files.write("bad.csv", "sequence,label,fold\nACGTACGT,1,train\nACGTACGA,0,holdout\n")
        var prep = DatasetPreparation()
        let error = dataError { try prep.addCSV(path: path, columns: CSVColumns(split: "fold")) }
        #expect(error == DataError(file: path, line: 3, field: "fold", "split 'holdout' is not one of train, valid (or validation, val), test"))
    }

    @Test func inputsWithAndWithoutASplitColumnDoNotMix() throws {
        var prep = DatasetPreparation()
        let csv = files.write("s.csv", "sequence,label,split\nACGTACGT,1,train\n")
        let fasta = files.write("n.fa", ">a\nACGTACGA\n")
        try prep.addCSV(path: csv, columns: CSVColumns(split: "split"))
        try prep.addFasta(path: fasta, label: 0)
        let error = dataError { _ = try prep.prepare(seed: 1) }
        #expect(error == DataError(file: "\(csv), \(fasta)", "some inputs name each row's split and others do not: "
                                   + "give a split column for every input, or for none"))
    }

    @Test func anUnusedSplitColumnIsMentioned() throws {
        let path = files.write("d.csv", "sequence,label,split\nACGTACGT,1,train\n")
        var prep = DatasetPreparation()
        try prep.addCSV(path: path)
        #expect(prep.report.last?.hasSuffix("column 'split' not used: the splits are drawn with the seed (--split-column split keeps them)") == true)
    }
}
