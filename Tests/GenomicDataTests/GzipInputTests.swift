import Testing
@testable import GenomicData

/// Compressed input that is incomplete or damaged is an error naming the file, never a shorter
/// read that looks complete.
@Suite struct GzipInputTests {
    let files = TestFiles()

    /// 40 records of 120 varied bases: compresses to about 1.4 KB, so there are many places to cut.
    static let fasta: String = {
        var state: UInt64 = 7
        return (0..<40).map { i in
            let bases = (0..<120).map { _ -> Character in
                state = state &* 6364136223846793005 &+ 1442695040888963407   // an LCG: test text only
                return Array("ACGT")[Int(state >> 62)]
            }
            return ">r\(i)\n\(String(bases))\n"
        }.joined()
    }()

    @Test func wholeFileReadsCompletely() throws {
        let path = files.write("whole.fa", bytes: files.gzip(Self.fasta))
        let (records, _) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(records.count == 40)
    }

    /// Cuts of the compressed file in the header, all through the deflate data and in the
    /// trailer (checksum and length), up to one byte short: none is read as a complete file.
    /// (A one-byte file is not recognizably gzip: zlib reads it as text.)
    @Test func everyTruncationIsAnErrorNamingTheFileAndOffset() throws {
        let whole = files.gzip(Self.fasta)
        #expect(whole.count > 1000)
        let cuts = Array(2 ..< 24) + Array(stride(from: 24, to: whole.count - 24, by: 7)) + Array(whole.count - 24 ..< whole.count)
        for cut in cuts {
            let path = files.write("cut.fa.gz", bytes: Array(whole.prefix(cut)))
            var records = 0
            let error = dataError { try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { _ in records += 1 } }
            #expect(error?.file == path, "cut at \(cut): \(error?.description ?? "no error, \(records) records")")
            #expect(error?.message.hasPrefix("truncated gzip file: the compressed data ends at byte \(cut) ") == true,
                    "cut at \(cut): \(error?.description ?? "no error")")
        }
    }

    /// The reproduction from issue 12's pattern: the line reader's message says where it stopped.
    @Test func truncatedFileNamesLineAndByte() throws {
        let whole = files.gzip(Self.fasta)
        let path = files.write("half.fa.gz", bytes: Array(whole.prefix(whole.count / 2)))
        var lines = 0
        let error = dataError { try LineReader(path: path).forEachLine { _, _ in lines += 1 } }
        let e = try #require(error)
        #expect(e.file == path)
        #expect(e.line == lines + 1)   // the unfinished line is not delivered; the error names it
        #expect(e.message.contains("ends at byte \(whole.count / 2) "))
        #expect(e.message.contains("the file is incomplete"))
    }

    /// A changed byte inside the deflate data: zlib's reason (bad code or checksum) is passed on.
    @Test func corruptDataIsAnError() throws {
        var bytes = files.gzip(Self.fasta)
        bytes[bytes.count / 2] ^= 0x5A
        let path = files.write("bad.fa.gz", bytes: bytes)
        let error = dataError { try FastaReader(path: path, policy: .skipNonACGTRecords).forEachRecord { _ in } }
        #expect(error?.file == path)
        #expect(error?.message.hasPrefix("corrupt gzip data (zlib: ") == true, "\(error?.description ?? "no error")")
    }

    /// bgzip and `cat a.gz b.gz` make several gzip members in one file: all are read, including a
    /// line that spans two members.
    @Test func concatenatedMembersReadCompletely() throws {
        let parts = [">a\nACGT\nAC", "GG\n>b\nTTTT\n", ">c\nGGGG"]
        let path = files.write("multi.fa.gz", bytes: parts.flatMap { files.gzip($0) })
        let (records, _) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(records.map(\.sequenceString) == ["ACGTACGG", "TTTT", "GGGG"])
        // The last member cut short is still an error.
        let cut = parts.flatMap { files.gzip($0) }.dropLast(3)
        let truncated = files.write("multi-cut.fa.gz", bytes: Array(cut))
        let error = dataError { try FastaReader(path: truncated, policy: .skipNonACGTRecords).forEachRecord { _ in } }
        #expect(error?.message.hasPrefix("truncated gzip file") == true)
    }

    /// bgzip's members carry an extra header field ('BC', the block size) and the file ends with
    /// an empty member: read through to the end as well.
    @Test func bgzipBlocksReadCompletely() throws {
        func block(_ text: String) -> [UInt8] {
            var member = files.gzip(text)   // zlib writes a 10-byte header without optional fields
            member[3] |= 0x04               // FLG.FEXTRA
            member.insert(contentsOf: [6, 0, UInt8(ascii: "B"), UInt8(ascii: "C"), 2, 0, 0, 0], at: 10)   // XLEN, BC subfield
            return member
        }
        let path = files.write("bgzf.fa.gz", bytes: [">a\nACGT\nAC", "GG\n>b\nTTTT\n", ""].flatMap(block))
        let (records, _) = try FastaReader(path: path, policy: .skipNonACGTRecords).readAll()
        #expect(records.map(\.sequenceString) == ["ACGTACGG", "TTTT"])
    }
}
