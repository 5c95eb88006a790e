import Foundation
import Testing
@testable import IncidentCore

/// IIS lines used across the scanner tests (CRLF, as IIS writes them).
enum ScanFixture {
    static let header = IISLog.header.joined(separator: "\r\n") + "\r\n"
    static let benign = IISLog.line("GET", "/owa/", user: "CORP\\alice", time: "2021-03-03 06:11:58")
    /// IIS-060 + UA-057 + IP-054.
    static let ssrf = IISLog.line("POST", "/ecp/y.js", ip: "104.140.114.110", ua: "ExchangeServicesClient/0.0.0.0",
                                  time: "2021-03-03 06:44:21")
    static let ssrfIDs: Set<String> = ["IIS-060", "UA-057", "IP-054"]
    /// IIS-063 + UA-058 + IP-054.
    static let shell = IISLog.line("POST", "/aspnet_client/discover.aspx", ip: "5.254.43.18", ua: "antSword/v2.1",
                                   time: "2021-03-03 07:02:13")
    static let shellIDs: Set<String> = ["IIS-063", "UA-058", "IP-054"]

    static func text(_ lines: [String]) -> String { header + lines.map { $0 + "\r\n" }.joined() }

    static let path = "evidence/EXCH01/IIS/W3SVC1/u_ex210303.log"
}

func hitIDs(_ hits: [Hit], line: Int) -> Set<String> { Set(hits.filter { $0.line == line }.map(\.indicator)) }

@Suite("EvidenceScanner")
struct EvidenceScannerTests {
    let engine: RuleEngine
    init() throws { engine = try builtInEngine() }

    @Test func hitsCarryServerRelativePathAndLine() throws {
        let dir = try TempDir("scan")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: engine)
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        let hits = scanner.hits
        #expect(hits.count == 3)
        #expect(Set(hits.map(\.indicator)) == ScanFixture.ssrfIDs)
        for hit in hits {
            #expect(hit.server == "EXCH01")
            #expect(hit.evidence == ScanFixture.path)
            #expect(hit.line == 6)
            #expect(hit.clientIP == "104.140.114.110")
            #expect(hit.rawLine == ScanFixture.ssrf)
            #expect(hit.time == Timestamps.parse("2021-03-03 06:44:21"))
            #expect(hit.id == Hit.makeID(indicator: hit.indicator, evidence: ScanFixture.path, line: 6, field: hit.field))
        }
        let iis060 = try #require(hits.first { $0.indicator == "IIS-060" })
        #expect(iis060.field == "cs-uri-stem")
        #expect(iis060.value == "/ecp/y.js")
        #expect(iis060.severity == .high && iis060.stage == .attempt && iis060.cve == "CVE-2021-26855")
        let ua = try #require(hits.first { $0.indicator == "UA-057" })
        #expect(ua.field == "cs(User-Agent)")
        #expect(ua.value == "ExchangeServicesClient/0.0.0.0")

        let status = try #require(scanner.statuses.first)
        #expect(scanner.statuses.count == 1)
        #expect(status.path == ScanFixture.path)
        #expect(status.server == "EXCH01")
        #expect(status.format == .iisW3C && status.checked)
        #expect(status.encoding == .utf8)
        #expect(status.lines == 6)
        #expect(status.records == 2)
        let bytes = try dir.bytes(ScanFixture.path)
        #expect(status.sizeBytes == Int64(bytes.count))
        #expect(status.sha256 == SHA256Hex.digest(bytes))
        #expect(status.firstEvent == Timestamps.parse("2021-03-03 06:11:58"))
        #expect(status.lastEvent == Timestamps.parse("2021-03-03 06:44:21"))
        #expect(status.warnings.isEmpty)
    }

    @Test func deepFoldersAndSeveralServers() throws {
        let dir = try TempDir("deep")
        try dir.write("evidence/EXCH01/sub/dir/file.log", ScanFixture.text([ScanFixture.ssrf]))
        try dir.write("evidence/EXCH02/a/b/c/d/u_ex210304.log", ScanFixture.text([ScanFixture.benign, ScanFixture.benign, ScanFixture.shell]))
        let scanner = EvidenceScanner(engine: engine)
        #expect(scanner.scan(caseFolder: dir.url) == ["evidence/EXCH01/sub/dir/file.log", "evidence/EXCH02/a/b/c/d/u_ex210304.log"])
        let one = scanner.hits.filter { $0.server == "EXCH01" }
        #expect(Set(one.map(\.evidence)) == ["evidence/EXCH01/sub/dir/file.log"])
        #expect(hitIDs(one, line: 5) == ScanFixture.ssrfIDs)
        let two = scanner.hits.filter { $0.server == "EXCH02" }
        #expect(hitIDs(two, line: 7) == ScanFixture.shellIDs)
        #expect(two.count == 3)
        #expect(scanner.statuses.map(\.server) == ["EXCH01", "EXCH02"])
    }

    @Test func appendedBytesArePickedUpAndEarlierHitsKeepTheirIDs() throws {
        let dir = try TempDir("append")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        let before = Set(scanner.hits.map(\.id))
        #expect(before.count == 3)

        try dir.append(ScanFixture.path, ScanFixture.benign + "\r\n" + ScanFixture.shell + "\r\n")
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        let hits = scanner.hits
        #expect(hits.count == 6)
        #expect(Set(hits.map(\.id)).count == 6, "duplicate hits")
        #expect(before.isSubset(of: Set(hits.map(\.id))))
        #expect(hitIDs(hits, line: 6) == ScanFixture.ssrfIDs)
        #expect(hitIDs(hits, line: 8) == ScanFixture.shellIDs)
        let status = try #require(scanner.statuses.first)
        #expect(status.lines == 8)
        #expect(status.records == 4)
        #expect(status.sha256 == SHA256Hex.digest(try dir.bytes(ScanFixture.path)))
        #expect(status.lastEvent == Timestamps.parse("2021-03-03 07:02:13"))

        // Nothing new: nothing read, nothing duplicated.
        #expect(scanner.scan(caseFolder: dir.url) == [])
        #expect(scanner.hits.count == 6)
    }

    /// A line longer than the 12 MiB limit is cut, counted once, and the lines after it keep
    /// their numbers.
    @Test func linesAfterAnOverlongLineKeepTheirNumbers() throws {
        let dir = try TempDir("overlong")
        let long = String(repeating: "a", count: LineSplitter.maxLineBytes + 1_000_000)
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, long, ScanFixture.shell]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits, line: 7) == ScanFixture.shellIDs)
        #expect(scanner.statuses.first?.lines == 7)
        #expect(scanner.statuses.first?.warnings.contains("1 line(s) longer than 12 MiB were cut") == true)
    }

    /// A line of several read chunks, written in three appends (one ending on a CR, the next
    /// starting with its LF), gives exactly the hits and line numbers of the file read whole.
    @Test func aLongLineGrowingOverSeveralScansIsReadOnce() throws {
        let long = IISLog.line("POST", "/aspnet_client/discover.aspx", query: "q=" + String(repeating: "a", count: 3 * EvidenceScanner.chunkSize + 17),
                               ip: "5.254.43.18", ua: "antSword/v2.1")
        let whole = ScanFixture.text([ScanFixture.benign, long, ScanFixture.shell])
        let once = try TempDir("long-once")
        try once.write(ScanFixture.path, whole)
        let reference = EvidenceScanner(engine: engine)
        reference.scan(caseFolder: once.url)

        let dir = try TempDir("long-grow")
        let bytes = Array(whole.utf8)
        let cr = bytes.count - ScanFixture.shell.utf8.count - 4 // the CR that ends the long line
        try dir.write(ScanFixture.path, Array(bytes[..<(cr - 2 * EvidenceScanner.chunkSize)]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        try dir.append(ScanFixture.path, String(decoding: bytes[(cr - 2 * EvidenceScanner.chunkSize)...cr], as: UTF8.self))
        #expect(bytes[cr] == 0x0D)
        scanner.scan(caseFolder: dir.url)
        try dir.append(ScanFixture.path, String(decoding: bytes[(cr + 1)...], as: UTF8.self))
        scanner.scan(caseFolder: dir.url)

        func lines(_ s: EvidenceScanner) -> [Int: Set<String>] { Dictionary(grouping: s.hits, by: \.line).mapValues { Set($0.map(\.indicator)) } }
        #expect(reference.hits.contains { $0.line == 6 && $0.clientIP == "5.254.43.18" })
        #expect(lines(scanner) == lines(reference))
        #expect(scanner.hits.count == reference.hits.count)
        #expect(scanner.statuses.first?.lines == 7)
        #expect(scanner.statuses.first?.records == reference.statuses.first?.records)
        #expect(scanner.statuses.first?.sha256 == SHA256Hex.digest(bytes))
    }

    /// A UTF-16 log caught by a rescan ending in half a character (after the 0x0D byte of a
    /// little-endian CR, or after the 0x00 byte of a big-endian CR) reads on correctly once the
    /// rest arrives: the same hits as the file read whole.
    @Test(arguments: [false, true])
    func utf16LogCaughtMidCharacter(bigEndian: Bool) throws {
        let text = ScanFixture.text([ScanFixture.benign, ScanFixture.shell, ScanFixture.shell])
        var bytes: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
        for unit in text.utf16 { bytes += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let whole = try TempDir("utf16-whole")
        try whole.write(ScanFixture.path, bytes)
        let reference = EvidenceScanner(engine: engine)
        reference.scan(caseFolder: whole.url)
        #expect(reference.hits.count == 2 * ScanFixture.shellIDs.count)
        // The CR that ends the first shell line, and the byte of it the split falls after.
        let crUnit = text.utf16.count - ScanFixture.shell.utf16.count - 4
        #expect(Array(text.utf16)[crUnit] == 0x0D)
        let cut = 2 + 2 * crUnit + 1
        let dir = try TempDir("utf16-split")
        try dir.write(ScanFixture.path, Array(bytes[..<cut]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        try dir.append(ScanFixture.path, Array(bytes[cut...]))
        scanner.scan(caseFolder: dir.url)
        func lines(_ s: EvidenceScanner) -> [Int: Set<String>] { Dictionary(grouping: s.hits, by: \.line).mapValues { Set($0.map(\.indicator)) } }
        #expect(lines(scanner) == lines(reference))
        #expect(scanner.statuses.first?.lines == reference.statuses.first?.lines)
        #expect(scanner.statuses.first?.warnings == reference.statuses.first?.warnings)
    }

    /// The same in UTF-16, little- and big-endian, with characters whose code units hold 0x0A and
    /// 0x0D bytes (U+0A0A, U+0D0D) in the over-long line: the skip ends at the real line end.
    @Test(arguments: [false, true])
    func utf16LinesAfterAnOverlongLineKeepTheirNumbers(bigEndian: Bool) throws {
        let dir = try TempDir("overlong-utf16")
        let long = String(repeating: "a\u{0A0A}b\u{0D0D}", count: LineSplitter.maxLineBytes / 8 + 100_000)
        let text = ScanFixture.text([ScanFixture.benign, long, ScanFixture.shell])
        var bytes: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
        bytes.reserveCapacity(2 * text.utf16.count + 2)
        for unit in text.utf16 { bytes += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        try dir.write(ScanFixture.path, bytes)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits, line: 7) == ScanFixture.shellIDs)
        #expect(scanner.statuses.first?.lines == 7)
        #expect(scanner.statuses.first?.warnings.contains("1 line(s) longer than 12 MiB were cut") == true)
        // Read in two scans, the first ending in half a unit inside the skipped part.
        let split = try TempDir("overlong-utf16-split")
        let odd = bytes.count - 2 * (ScanFixture.shell.utf16.count + 2) - 2 * 50_001 - 1
        #expect(odd % 2 == 1)
        try split.write(ScanFixture.path, Array(bytes[..<odd]))
        let twice = EvidenceScanner(engine: engine)
        twice.scan(caseFolder: split.url)
        try split.append(ScanFixture.path, Array(bytes[odd...]))
        twice.scan(caseFolder: split.url)
        #expect(hitIDs(twice.hits, line: 7) == ScanFixture.shellIDs)
        #expect(twice.statuses.first?.lines == 7)
        #expect(FileCursor.lineEnd(in: [0x0A, 0x0A, 0x0D, 0x00, 0x0A, 0x00, 0x41, 0x00], encoding: .utf16LE).map { [$0.cut] } == [6])
        #expect(FileCursor.lineEnd(in: [0x0A, 0x0A, 0x00, 0x0A], encoding: .utf16BE).map { [$0.cut] } == [4])
        #expect(FileCursor.lineEnd(in: [0x0A, 0x0A, 0x00], encoding: .utf16BE) == nil)
    }

    /// An over-long line ended by a lone CR or a CRLF that falls at the end of a read chunk,
    /// where the line is cut or later while it is skipped: the next line is read, once, with its
    /// number (the CR waits for a possible LF, which is then not a line of its own).
    @Test(arguments: [("cr", 0), ("cr", 1), ("crlf", 0), ("crlf", 1), ("crlf", 20)])
    func lineEndAtAChunkEndAfterAnOverlongLine(_ ending: String, chunksPast: Int) throws {
        // The file: header and a benign line, then the long line, its end, the shell line.
        let head = Array(ScanFixture.text([ScanFixture.benign]).utf8)
        // The long line's end (its CR) falls on the last byte of a chunk: in the chunk where the
        // cut-off falls, or `chunksPast` chunks later.
        let chunk = EvidenceScanner.chunkSize
        let cutChunkEnd = ((head.count + LineSplitter.maxLineBytes) / chunk + 1 + chunksPast) * chunk
        let longCount = cutChunkEnd - 1 - head.count
        var bytes = head + Array(repeating: UInt8(ascii: "a"), count: longCount)
        bytes += ending == "cr" ? [0x0D] : [0x0D, 0x0A]
        bytes += Array((ScanFixture.shell + "\r\n").utf8)
        #expect(bytes[cutChunkEnd - 1] == 0x0D)
        let dir = try TempDir("overlong-cr")
        try dir.write(ScanFixture.path, bytes)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits, line: 7) == ScanFixture.shellIDs)
        #expect(scanner.statuses.first?.lines == 7)
        #expect(FileCursor.lineEnd(in: [0x41, 0x0D], encoding: .utf8).map { [$0.cut] + [$0.crAtEnd ? 1 : 0] } == [2, 1])
        #expect(FileCursor.lineEnd(in: [0x41, 0x0D, 0x0A], encoding: .utf8).map { [$0.cut] + [$0.crAtEnd ? 1 : 0] } == [3, 0])
        #expect(FileCursor.lineEnd(in: [0x0D, 0x00, 0x41], encoding: .utf16LE).map { [$0.cut] + [$0.crAtEnd ? 1 : 0] } == [2, 1])
    }

    /// A last line cut inside a value (`1.2.` of `1.2.3.4`) never reports the cut value; the
    /// completed line does, once.
    @Test func aCutLastLineDoesNotReportTheCutValue() throws {
        let dir = try TempDir("cut")
        let full = IISLog.line("POST", "/ecp/y.js", ip: "1.2.3.4", ua: "ExchangeServicesClient/0.0.0.0")
        let cut = String(full[..<full.range(of: "1.2.3.4")!.lowerBound]) + "1.2."
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]) + cut)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(!scanner.hits.contains { $0.clientIP == "1.2." })
        #expect(scanner.hits.allSatisfy { $0.clientIP == nil })
        #expect(hitIDs(scanner.hits, line: 6).contains("IIS-060"))
        try dir.append(ScanFixture.path, "3.4" + String(full[full.range(of: "1.2.3.4")!.upperBound...]) + "\r\n")
        scanner.scan(caseFolder: dir.url)
        let iis060 = scanner.hits.filter { $0.indicator == "IIS-060" }
        #expect(iis060.count == 1)
        #expect(iis060.first?.clientIP == "1.2.3.4")
    }

    @Test func unterminatedLastLineHitsOnceAndIsNotDuplicatedWhenCompleted() throws {
        let dir = try TempDir("tail")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]) + ScanFixture.ssrf)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits, line: 6) == ScanFixture.ssrfIDs)
        #expect(scanner.hits.count == 3)
        let ids = Set(scanner.hits.map(\.id))
        #expect(scanner.statuses.first?.lines == 5)
        #expect(scanner.statuses.first?.sha256 == SHA256Hex.digest(try dir.bytes(ScanFixture.path)))

        // The writer finishes the line and goes on.
        try dir.append(ScanFixture.path, "\r\n" + ScanFixture.benign + "\r\n" + ScanFixture.shell)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.count == 6)
        #expect(hitIDs(scanner.hits, line: 6) == ScanFixture.ssrfIDs)
        #expect(hitIDs(scanner.hits, line: 8) == ScanFixture.shellIDs)
        #expect(ids.isSubset(of: Set(scanner.hits.map(\.id))))
        #expect(scanner.statuses.first?.lines == 7)

        try dir.append(ScanFixture.path, "\r\n")
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.count == 6)
        #expect(Set(scanner.hits.map(\.id)).count == 6)
        #expect(scanner.statuses.first?.lines == 8)
        #expect(scanner.statuses.first?.sha256 == SHA256Hex.digest(try dir.bytes(ScanFixture.path)))
    }

    @Test func lineCutInTheMiddleOfACRLF() throws {
        let dir = try TempDir("crlf")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]) + ScanFixture.ssrf + "\r")
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits, line: 6) == ScanFixture.ssrfIDs)
        try dir.append(ScanFixture.path, "\n" + ScanFixture.shell + "\r\n")
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.count == 6)
        #expect(hitIDs(scanner.hits, line: 7) == ScanFixture.shellIDs)
        #expect(scanner.statuses.first?.lines == 7)
    }

    @Test func truncatedOrReplacedFileIsReadAgainFromTheStart() throws {
        let dir = try TempDir("truncate")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign, ScanFixture.benign, ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits, line: 7) == ScanFixture.ssrfIDs)

        // Truncated: the hit is gone.
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.benign]))
        try dir.touch(ScanFixture.path, secondsAgo: 100)
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        #expect(scanner.hits.isEmpty)
        #expect(scanner.statuses.first?.lines == 5)
        #expect(scanner.statuses.first?.records == 1)
        #expect(scanner.statuses.first?.sha256 == SHA256Hex.digest(try dir.bytes(ScanFixture.path)))

        // Replaced by a larger file with different first bytes: read from line 1 again.
        let replacement = "#Software: Microsoft Internet Information Services 8.5\r\n" + IISLog.header[3] + "\r\n"
            + ScanFixture.shell + "\r\n" + ScanFixture.benign + "\r\n" + ScanFixture.benign + "\r\n" + ScanFixture.benign + "\r\n"
        try dir.write(ScanFixture.path, replacement)
        try dir.touch(ScanFixture.path, secondsAgo: 50)
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        #expect(scanner.hits.count == 3)
        #expect(hitIDs(scanner.hits, line: 3) == ScanFixture.shellIDs)
        #expect(scanner.statuses.first?.lines == 6)
        #expect(scanner.statuses.first?.records == 4)
        #expect(scanner.statuses.first?.sha256 == SHA256Hex.digest(Array(replacement.utf8)))
    }

    /// Chain of custody: a file edited in place after its first 512 bytes (same size, new
    /// modification time) must be re-hashed, and its hits must reflect what is now on disk.
    @Test func inPlaceEditBeyondTheHeadIsNoticed() throws {
        let dir = try TempDir("edit")
        let original = ScanFixture.text([ScanFixture.benign, ScanFixture.benign, ScanFixture.ssrf])
        try dir.write(ScanFixture.path, original)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.count == 3)
        // Same length: the attacker's IP and agent overwritten with look-alikes.
        let edited = original.replacingOccurrences(of: "104.140.114.110", with: "104.140.114.111")
            .replacingOccurrences(of: "/ecp/y.js", with: "/ecp/y.ok")
        #expect(edited.utf8.count == original.utf8.count)
        try dir.write(ScanFixture.path, edited)
        try dir.touch(ScanFixture.path, secondsAgo: 30)
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        let status = try #require(scanner.statuses.first)
        #expect(status.sha256 == SHA256Hex.digest(Array(edited.utf8)))
        #expect(Set(scanner.hits.map(\.indicator)) == ["UA-057"])
    }

    @Test func unchangedFileIsNotReadAgain() throws {
        let dir = try TempDir("unchanged")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: engine)
        #expect(scanner.scan(caseFolder: dir.url) == [ScanFixture.path])
        let statuses = scanner.statuses
        let ids = scanner.hits.map(\.id).sorted()
        #expect(scanner.scan(caseFolder: dir.url) == [])
        #expect(scanner.scan(caseFolder: dir.url) == [])
        #expect(scanner.statuses == statuses)
        #expect(scanner.hits.map(\.id).sorted() == ids)
        #expect(scanner.scanFile(dir.url.appendingPathComponent(ScanFixture.path), relativePath: ScanFixture.path, server: "EXCH01") == false)
    }

    @Test func binaryJunkIsNotCheckedAndNeverCrashes() throws {
        let dir = try TempDir("junk")
        let junk = randomBytes(count: 200_000, seed: 42)
        try dir.write("evidence/EXCH01/dump/memory.bin", junk)
        try dir.write("evidence/EXCH01/empty.log", [UInt8]())
        try dir.write("evidence/EXCH01/notes.txt", "called the hoster at 10:00\nlogs rotated daily\n")
        let scanner = EvidenceScanner(engine: engine)
        #expect(scanner.scan(caseFolder: dir.url) == ["evidence/EXCH01/dump/memory.bin", "evidence/EXCH01/empty.log", "evidence/EXCH01/notes.txt"])
        #expect(scanner.hits.isEmpty)
        let s = scanner.statuses
        try #require(s.count == 3)
        // Not a log: scanned whole with YARA as a collected file, which alone assesses nothing.
        #expect(s[0].format == .collectedFile && !s[0].checked)
        #expect(s[0].warnings == [])
        #expect(s[0].sha256 == SHA256Hex.digest(junk))
        #expect(s[0].sizeBytes == 200_000)
        #expect(s[1].format == nil)
        #expect(s[1].warnings == ["empty file; not checked"])
        #expect(s[1].sha256 == SHA256Hex.digest([]))
        #expect(s[2].format == .collectedFile && !s[2].checked)
        #expect(s[2].warnings == [])
        // More junk appended: still fine.
        try dir.append("evidence/EXCH01/dump/memory.bin", randomBytes(count: 5000, seed: 43))
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses[0].sha256 == SHA256Hex.digest(try dir.bytes("evidence/EXCH01/dump/memory.bin")))
        #expect(scanner.statuses[0].warnings == [])
        #expect(scanner.statuses[0].format == .collectedFile)
    }

    @Test func fileThatStartsEmptyIsDetectedOnceItHasContent() throws {
        let dir = try TempDir("late")
        try dir.write(ScanFixture.path, [UInt8]())
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.format == nil)
        try dir.append(ScanFixture.path, ScanFixture.text([ScanFixture.ssrf]))
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.format == .iisW3C)
        #expect(scanner.statuses.first?.warnings == [])
        #expect(hitIDs(scanner.hits, line: 5) == ScanFixture.ssrfIDs)
    }

    @Test func tenMegabyteLineThenAHit() throws {
        let dir = try TempDir("long")
        let longQuery = "q=" + String(repeating: "A", count: 10 * 1024 * 1024)
        let long = IISLog.line("GET", "/owa/", query: longQuery)
        try dir.write(ScanFixture.path, ScanFixture.text([long, ScanFixture.ssrf, ScanFixture.benign]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.hits.count == 3)
        #expect(hitIDs(scanner.hits, line: 6) == ScanFixture.ssrfIDs)
        let status = try #require(scanner.statuses.first)
        #expect(status.lines == 7)
        #expect(status.records == 3)
        #expect(status.warnings.isEmpty)
        #expect(status.sha256 == SHA256Hex.digest(try dir.bytes(ScanFixture.path)))
    }

    @Test func utf16LittleEndianWithBOMIISLog() throws {
        let dir = try TempDir("utf16")
        let text = ScanFixture.text([ScanFixture.benign, ScanFixture.ssrf])
        let bytes = utf16LE(text, bom: true)
        try dir.write(ScanFixture.path, bytes)
        try dir.write("evidence/EXCH02/IIS/u_ex210304.log", utf16LE(ScanFixture.text([ScanFixture.shell]), bom: false))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        let first = try #require(scanner.statuses.first)
        #expect(first.encoding == .utf16LE)
        #expect(first.format == .iisW3C)
        #expect(first.lines == 6)
        #expect(first.sha256 == SHA256Hex.digest(bytes))
        #expect(hitIDs(scanner.hits.filter { $0.server == "EXCH01" }, line: 6) == ScanFixture.ssrfIDs)
        #expect(scanner.hits.first { $0.indicator == "IIS-060" }?.rawLine == ScanFixture.ssrf)
        // Without a BOM, detected by its zero bytes.
        #expect(scanner.statuses.last?.encoding == .utf16LE)
        #expect(hitIDs(scanner.hits.filter { $0.server == "EXCH02" }, line: 5) == ScanFixture.shellIDs)
        // Appending UTF-16 text.
        try dir.append(ScanFixture.path, utf16LE(ScanFixture.shell + "\r\n", bom: false))
        scanner.scan(caseFolder: dir.url)
        #expect(hitIDs(scanner.hits.filter { $0.server == "EXCH01" }, line: 7) == ScanFixture.shellIDs)
        #expect(scanner.statuses.first?.sha256 == SHA256Hex.digest(try dir.bytes(ScanFixture.path)))
    }

    @Test func utf8BOMHttpProxyLog() throws {
        let dir = try TempDir("bom")
        let lines = [HttpProxyLog.headerLine] + HttpProxyLog.directives + [
            HttpProxyLog.row([:]),
            HttpProxyLog.row(["AnchorMailbox": "ServerInfo~a]@exch01.corp.example:444/mapi/emsmdb/?#"]),
        ]
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(lines.map { $0 + "\r\n" }.joined().utf8)
        let path = "evidence/EXCH01/HttpProxy/Mapi/HttpProxy_2021030306-1.LOG"
        try dir.write(path, bytes)
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        #expect(scanner.statuses.first?.format == .httpProxy)
        #expect(scanner.statuses.first?.records == 2)
        #expect(scanner.statuses.first?.warnings == [])
        let hit = try #require(scanner.hits.first)
        #expect(scanner.hits.count == 1)
        #expect(hit.indicator == "PL-001" && hit.line == 8 && hit.field == "AnchorMailbox")
        #expect(hit.time == Timestamps.parse("2021-03-03T06:12:04.209Z"))
    }

    /// Loose files, links out of the case and hidden entries (`.git`, `.hidden.log`, a `.EXCH09`
    /// folder) are skipped, each with a reason the responder sees (a hidden file is never silently
    /// dropped: attackers hide web shells, so it is listed, and the scan says results are incomplete).
    @Test func walkerSkipsLooseAndOutsideLinkedFilesWithReasons() throws {
        let root = try TempDir("walk")
        let caseDir = root.url.appendingPathComponent("case")
        try root.write("case/evidence/EXCH01/IIS/u_ex210303.log", ScanFixture.text([ScanFixture.ssrf]))
        try root.write("case/evidence/loose.log", ScanFixture.text([ScanFixture.ssrf]))
        try root.write("case/evidence/EXCH01/.hidden.log", ScanFixture.text([ScanFixture.ssrf]))
        try root.write("case/evidence/EXCH01/.git/objects/x.log", ScanFixture.text([ScanFixture.ssrf]))
        try root.write("case/evidence/.EXCH09/u.log", ScanFixture.text([ScanFixture.ssrf]))
        try root.write("case/notes/inside.log", ScanFixture.text([ScanFixture.shell]))
        try root.write("outside/secret.log", ScanFixture.text([ScanFixture.shell]))
        try root.write("outside/dir/other.log", ScanFixture.text([ScanFixture.shell]))
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: caseDir.appendingPathComponent("evidence/EXCH01/link-out.log").path,
                                  withDestinationPath: root.url.appendingPathComponent("outside/secret.log").path)
        try fm.createSymbolicLink(atPath: caseDir.appendingPathComponent("evidence/EXCH01/rel-out.log").path,
                                  withDestinationPath: "../../../outside/secret.log")
        try fm.createSymbolicLink(atPath: caseDir.appendingPathComponent("evidence/EXCH01/dir-out").path,
                                  withDestinationPath: root.url.appendingPathComponent("outside/dir").path)
        try fm.createSymbolicLink(atPath: caseDir.appendingPathComponent("evidence/EXCH01/link-in.log").path,
                                  withDestinationPath: caseDir.appendingPathComponent("notes/inside.log").path)

        let listing = EvidenceWalker.list(caseDir)
        #expect(listing.found.map(\.relativePath) == ["evidence/EXCH01/IIS/u_ex210303.log", "evidence/EXCH01/link-in.log"])
        #expect(listing.found.map(\.server) == ["EXCH01", "EXCH01"])
        #expect(listing.servers == ["EXCH01"])
        #expect(listing.skipped.map { "\($0.relativePath) [\($0.server)]" } == [
            "evidence/.EXCH09 []", "evidence/EXCH01/.git [EXCH01]", "evidence/EXCH01/.hidden.log [EXCH01]", "evidence/EXCH01/dir-out [EXCH01]",
            "evidence/EXCH01/link-out.log [EXCH01]", "evidence/EXCH01/rel-out.log [EXCH01]", "evidence/loose.log []",
        ])
        #expect(listing.skipped[0].reason == "hidden folder (name starts with \".\"): not a server, not read; rename it without the dot to read it")
        #expect(listing.skipped[1].reason == "hidden folder (name starts with \".\"): not read; rename it without the dot to read it")
        #expect(listing.skipped[2].reason == "hidden file (name starts with \".\"): not read; rename it without the dot to read it")
        #expect(listing.skipped.last?.reason == "not in a server folder: evidence goes in evidence/<server-name>/")
        #expect(listing.skipped[3].reason.hasSuffix("outside the case folder: not followed") == true)

        let scanner = EvidenceScanner(engine: try builtInEngine())
        scanner.scan(caseFolder: caseDir)
        #expect(Set(scanner.hits.map(\.evidence)) == ["evidence/EXCH01/IIS/u_ex210303.log", "evidence/EXCH01/link-in.log"])
        let skipped = scanner.statuses.filter(\.skipped)
        #expect(skipped.count == 7 && skipped.allSatisfy { $0.format == nil && $0.warnings.count == 1 })
    }

    @Test func serverFolderThatIsALinkOutsideIsNotFollowed() throws {
        let root = try TempDir("walk2")
        let caseDir = root.url.appendingPathComponent("case")
        try root.write("case/evidence/EXCH01/u.log", ScanFixture.text([ScanFixture.benign]))
        try root.write("outside/secret.log", ScanFixture.text([ScanFixture.shell]))
        try FileManager.default.createSymbolicLink(atPath: caseDir.appendingPathComponent("evidence/EXCH02").path,
                                                   withDestinationPath: root.url.appendingPathComponent("outside").path)
        let listing = EvidenceWalker.list(caseDir)
        #expect(listing.found.map(\.relativePath) == ["evidence/EXCH01/u.log"])
        #expect(listing.skipped.map(\.relativePath) == ["evidence/EXCH02"])
        #expect(listing.skipped.first?.server == "EXCH02")
        #expect(listing.skipped.first?.reason.contains("outside the case folder: not followed") == true)
    }

    @Test func missingCaseFolderOrEvidenceFolder() throws {
        let dir = try TempDir("none")
        let scanner = EvidenceScanner(engine: engine)
        #expect(scanner.scan(caseFolder: dir.url) == [])
        #expect(scanner.scan(caseFolder: dir.url.appendingPathComponent("does-not-exist")) == [])
        #expect(scanner.statuses.isEmpty && scanner.hits.isEmpty)
    }

    @Test func deletedFileIsReportedGone() throws {
        let dir = try TempDir("gone")
        try dir.write(ScanFixture.path, ScanFixture.text([ScanFixture.ssrf]))
        let scanner = EvidenceScanner(engine: engine)
        scanner.scan(caseFolder: dir.url)
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent(ScanFixture.path))
        #expect(scanner.scan(caseFolder: dir.url) == [])
        #expect(scanner.statuses.first?.warnings == ["file is gone from the evidence folder"])
        // What was found stays found.
        #expect(scanner.hits.count == 3)
    }
}
