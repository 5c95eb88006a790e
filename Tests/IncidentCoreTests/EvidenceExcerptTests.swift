import Foundation
import Testing
@testable import IncidentCore

@Suite("Lines around a hit (detail view)")
struct EvidenceExcerptTests {
    func caseWith(_ bytes: [UInt8], name: String = "u_ex210303.log") throws -> (URL, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("excerpt-\(UUID().uuidString)")
        let dir = folder.appendingPathComponent("evidence/EXCH01/iis")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(bytes).write(to: dir.appendingPathComponent(name))
        return (folder, "evidence/EXCH01/iis/\(name)")
    }

    func numbered(_ n: Int, ending: String = "\n") -> String {
        (1...n).map { "line \($0)" }.joined(separator: ending) + ending
    }

    @Test("three lines either side, numbered as the scanner numbers them, with LF, CRLF and CR", arguments: ["\n", "\r\n", "\r"])
    func around(ending: String) throws {
        let (folder, path) = try caseWith(Array(numbered(20, ending: ending).utf8))
        defer { try? FileManager.default.removeItem(at: folder) }
        let e = EvidenceExcerpt.read(caseFolder: folder, path: path, line: 10)
        #expect(e.problem == nil)
        #expect(e.lines.map(\.number) == Array(7...13))
        #expect(e.lines.map(\.text) == (7...13).map { "line \($0)" })
        #expect(EvidenceExcerpt.read(caseFolder: folder, path: path, line: 1).lines.map(\.number) == [1, 2, 3, 4])
        #expect(EvidenceExcerpt.read(caseFolder: folder, path: path, line: 20).lines.map(\.number) == [17, 18, 19, 20])
        let gone = EvidenceExcerpt.read(caseFolder: folder, path: path, line: 25)
        #expect(gone.lines.map(\.number) == [])
        #expect(gone.problem == "the file has fewer than 25 lines now (changed since the scan?)")
    }

    @Test("line numbers agree with the scanner's splitter, across chunk boundaries and a CRLF split between chunks")
    func agreesWithSplitter() throws {
        // Lines of varied length so that some CRLF pair straddles the 1 MiB chunk boundary.
        var text = ""
        var i = 0
        while text.utf8.count < 2_300_000 { text += String(repeating: "a", count: 50 + i % 997) + "#\(i)\r\n"; i += 1 }
        let bytes = Array(text.utf8)
        let (folder, path) = try caseWith(bytes)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lines = bytes.withUnsafeBufferPointer { LineSplitter.split($0, encoding: .utf8, atEOF: true).lines.map(\.text) }
        for n in [1, 1500, 2000, 2100, lines.count - 1, lines.count] {
            let e = EvidenceExcerpt.read(caseFolder: folder, path: path, line: n, radius: 1)
            for l in e.lines { #expect(l.text == lines[l.number - 1], "line \(l.number)") }
            #expect(e.lines.contains { $0.number == n })
        }
    }

    @Test("UTF-16 with BOM, and UTF-8 with BOM")
    func encodings() throws {
        let text = numbered(9, ending: "\r\n")
        for bytes in [utf16LE(text, bom: true), utf16BE(text, bom: true), utf16LE(text, bom: false), [0xEF, 0xBB, 0xBF] + Array(text.utf8)] {
            let (folder, path) = try caseWith(bytes)
            defer { try? FileManager.default.removeItem(at: folder) }
            let e = EvidenceExcerpt.read(caseFolder: folder, path: path, line: 5, radius: 1)
            #expect(e.lines.map(\.text) == ["line 4", "line 5", "line 6"])
        }
    }

    @Test("a 10 MB line is cut to the limit and the rest counted; neighbours stay whole")
    func hugeLine() throws {
        let big = String(repeating: "A", count: 10_000_000)
        let (folder, path) = try caseWith(Array("first\n\(big)\nthird\n".utf8))
        defer { try? FileManager.default.removeItem(at: folder) }
        let e = EvidenceExcerpt.read(caseFolder: folder, path: path, line: 2)
        #expect(e.lines.map(\.number) == [1, 2, 3])
        #expect(e.lines[1].text.utf8.count == EvidenceExcerpt.defaultMaxLineBytes)
        #expect(e.lines[1].droppedBytes == 10_000_000 - EvidenceExcerpt.defaultMaxLineBytes)
        #expect(e.lines[0].text == "first" && e.lines[2].text == "third")
    }

    @Test("binary junk, invalid UTF-8 and a truncated last line give text, never a crash")
    func junk() throws {
        var bytes = Array("ok\n".utf8) + [0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x0A] + randomBytes(count: 5000, seed: 7).map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
        bytes += Array("\nlast without end".utf8)
        let (folder, path) = try caseWith(bytes)
        defer { try? FileManager.default.removeItem(at: folder) }
        let e = EvidenceExcerpt.read(caseFolder: folder, path: path, line: 3)
        #expect(e.lines.map(\.number) == [1, 2, 3, 4])
        #expect(e.lines[3].text == "last without end")
        #expect(e.lines[1].text.contains("\u{FFFD}"))
    }

    @Test("a missing file, a path out of the case folder: a problem, nothing read")
    func problems() throws {
        let (folder, _) = try caseWith(Array("x\n".utf8))
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = EvidenceExcerpt.read(caseFolder: folder, path: "evidence/EXCH01/nope.log", line: 1)
        #expect(missing.lines.isEmpty)
        #expect(missing.problem?.hasPrefix("cannot open the evidence file") == true)
        let out = EvidenceExcerpt.read(caseFolder: folder, path: "../../../etc/passwd", line: 1)
        #expect(out.lines.isEmpty)
        #expect(out.problem == "evidence path leads out of the case folder")
    }

    @Test("the evidence file is not modified")
    func readOnly() throws {
        let bytes = Array(numbered(50).utf8)
        let (folder, path) = try caseWith(bytes)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent(path)
        let before = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date
        _ = EvidenceExcerpt.read(caseFolder: folder, path: path, line: 25)
        #expect(try Data(contentsOf: url) == Data(bytes))
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date == before)
    }
}
