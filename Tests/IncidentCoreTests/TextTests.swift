import Foundation
import Testing
@testable import IncidentCore

@Suite("WildcardPattern (PowerShell -like)")
struct WildcardPatternTests {
    @Test func starMatchesAnyRunIncludingNone() {
        let p = WildcardPattern("*")
        #expect(p.matches(""))
        #expect(p.matches("anything at all"))
        #expect(WildcardPattern("serverinfo~*/*").matches("serverinfo~a]@exch/mapi/emsmdb/?#"))
        #expect(WildcardPattern("serverinfo~*/*").matches("serverinfo~/"))
        #expect(!WildcardPattern("serverinfo~*/*").matches("serverinfo~exch01"))
        #expect(!WildcardPattern("serverinfo~*/*").matches("smtp~serverinfo~a/b"))
        #expect(WildcardPattern("a*b*c").matches("aXXbYYc"))
        #expect(!WildcardPattern("a*b*c").matches("aXXcYYb"))
        #expect(WildcardPattern("*.aspx").matches("/aspnet_client/discover.aspx"))
        #expect(!WildcardPattern("*.aspx").matches("/aspnet_client/discover.aspx.txt"))
    }

    @Test func questionMarkMatchesExactlyOneCharacter() {
        let p = WildcardPattern("a?c")
        #expect(p.matches("abc"))
        #expect(!p.matches("ac"))
        #expect(!p.matches("abbc"))
        #expect(!WildcardPattern("?").matches(""))
        #expect(WildcardPattern("?").matches("x"))
        // One character, not one byte: é is two UTF-8 bytes, 😀 four.
        #expect(WildcardPattern("?").matches("é"))
        #expect(WildcardPattern("a?c").matches("a😀c"))
        #expect(!WildcardPattern("??").matches("é"))
        #expect(WildcardPattern("?:\\mscoree.dll").matches("c:\\mscoree.dll"))
        #expect(!WildcardPattern("?:\\mscoree.dll").matches("c:\\windows\\mscoree.dll"))
    }

    @Test func bracketsAreLiteral() {
        // Attacker text `ServerInfo~a]@…` must not be read as a character class.
        #expect(WildcardPattern("serverinfo~a]@*").matches("serverinfo~a]@exch:444/mapi/emsmdb/?#"))
        #expect(WildcardPattern("[a]").matches("[a]"))
        #expect(!WildcardPattern("[a]").matches("a"))
        #expect(WildcardPattern("*]*").matches("x]y"))
        #expect(!WildcardPattern("*]*").matches("xy"))
    }

    @Test func emptyPatternMatchesOnlyEmptyText() {
        #expect(WildcardPattern("").matches(""))
        #expect(!WildcardPattern("").matches("a"))
        #expect(WildcardPattern("**").matches(""))
    }

    @Test func tenMegabyteValue() {
        let big = String(repeating: "a", count: 10 * 1024 * 1024)
        #expect(WildcardPattern("*").matches(big))
        #expect(WildcardPattern("a*a").matches(big))
        #expect(WildcardPattern("*a").matches(big))
        #expect(!WildcardPattern("*b").matches(big))
        #expect(!WildcardPattern("serverinfo~*/*").matches(big))
        #expect(WildcardPattern("*b").matches(big + "b"))
        #expect(WildcardPattern("serverinfo~*/*").matches("serverinfo~" + big + "/x"))
    }

    /// A slow, obviously correct reference: dynamic programming over Characters.
    static func reference(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var dp = Array(repeating: Array(repeating: false, count: t.count + 1), count: p.count + 1)
        dp[0][0] = true
        for i in 1...max(p.count, 1) where i <= p.count {
            for j in 0...t.count {
                switch p[i - 1] {
                case "*": dp[i][j] = dp[i - 1][j] || (j > 0 && dp[i][j - 1])
                case "?": dp[i][j] = j > 0 && dp[i - 1][j - 1]
                default: dp[i][j] = j > 0 && dp[i - 1][j - 1] && p[i - 1] == t[j - 1]
                }
            }
        }
        return dp[p.count][t.count]
    }

    @Test func agreesWithReferenceOnRandomInputs() {
        var rng = SeededRandom(seed: 0x5EED_2021_0302)
        let patternAlphabet: [Character] = ["a", "b", "é", "*", "?", "]", "/"]
        let textAlphabet: [Character] = ["a", "b", "é", "]", "/", "😀", "?", "*"]
        var disagreements: [String] = []
        for _ in 0..<4000 {
            let pLen = Int(rng.next() % 7), tLen = Int(rng.next() % 9)
            let p = String((0..<pLen).map { _ in patternAlphabet[Int(rng.next() % UInt64(patternAlphabet.count))] })
            let t = String((0..<tLen).map { _ in textAlphabet[Int(rng.next() % UInt64(textAlphabet.count))] })
            if WildcardPattern(p).matches(t) != Self.reference(p, t) { disagreements.append("\(p) vs \(t)") }
        }
        #expect(disagreements.isEmpty, "pattern vs text where -like semantics differ: \(disagreements.prefix(10))")
    }
}

@Suite("CSVLine")
struct CSVLineTests {
    @Test func plainFields() {
        #expect(CSVLine.fields("a,b,c") == ["a", "b", "c"])
        #expect(CSVLine.fields("single") == ["single"])
    }

    @Test func quotedFieldsKeepCommas() {
        #expect(CSVLine.fields("\"a,b\",c") == ["a,b", "c"])
        #expect(CSVLine.fields("\"SHA256\",\"ABC\",\"C:\\x, y\\z.aspx\"") == ["SHA256", "ABC", "C:\\x, y\\z.aspx"])
    }

    @Test func doubledQuotesBecomeOne() {
        #expect(CSVLine.fields("\"say \"\"hi\"\"\",x") == ["say \"hi\"", "x"])
        #expect(CSVLine.fields("\"\"\"\"") == ["\""])
        #expect(CSVLine.fields("\"a\"\"\",b") == ["a\"", "b"])
    }

    @Test func emptyFields() {
        #expect(CSVLine.fields("") == [""])
        #expect(CSVLine.fields(",") == ["", ""])
        #expect(CSVLine.fields("a,,c,") == ["a", "", "c", ""])
        #expect(CSVLine.fields("\"\",\"\"") == ["", ""])
        #expect(CSVLine.fields(",,,") == ["", "", "", ""])
    }

    @Test func quotesInsideUnquotedFieldAndWhitespaceAreKept() {
        #expect(CSVLine.fields("a\"b,c") == ["a\"b", "c"])
        #expect(CSVLine.fields(" a , b ") == [" a ", " b "])
        // An unterminated quote runs to the end of the line.
        #expect(CSVLine.fields("x,\"open,still open") == ["x", "open,still open"])
    }

    @Test func realECPServerLine() {
        let line = ECPLog.row(eventData: ECPLog.eventData(cmd: ECPLog.maliciousCmd))
        let f = CSVLine.fields(line)
        #expect(f.count == 4)
        #expect(f[0] == "2021-03-03T06:44:34.917Z")
        #expect(f[2] == "ECP.Request")
        #expect(f[3].contains("'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=\"JScript\" runat=\"server\">"))
        #expect(f[3] == ECPLog.eventData(cmd: ECPLog.maliciousCmd))
    }
}

@Suite("Timestamps")
struct TimestampTests {
    /// 2021-03-03T06:49:42Z.
    static let base: TimeInterval = 1_614_754_182

    @Test(arguments: ["2021-03-03T06:49:42Z", "2021-03-03T06:49:42", "2021-03-03 06:49:42", "2021-03-03T06:49:42.000Z"])
    func wholeSeconds(_ text: String) throws {
        let d = try #require(Timestamps.parse(text))
        #expect(d.timeIntervalSince1970 == Self.base)
    }

    @Test func fractionalSeconds() throws {
        let d = try #require(Timestamps.parse("2021-03-03T06:49:42.162Z"))
        #expect(abs(d.timeIntervalSince1970 - (Self.base + 0.162)) < 1e-6)
        let seven = try #require(Timestamps.parse("2021-03-05T10:07:29.0421232Z"))
        #expect(abs(seven.timeIntervalSince1970 - (1_614_938_849 + 0.0421232)) < 1e-6)
        let noZ = try #require(Timestamps.parse("2021-03-03T06:49:42.5"))
        #expect(noZ.timeIntervalSince1970 == Self.base + 0.5)
    }

    @Test func iisDateAndTime() throws {
        let d = try #require(Timestamps.parse("2021-08-23 09:13:18"))
        #expect(d.timeIntervalSince1970 == 1_629_709_998)
        let leapDay = try #require(Timestamps.parse("2020-02-29 00:00:00"))
        #expect(leapDay.timeIntervalSince1970 == 1_582_934_400)
        let epoch = try #require(Timestamps.parse("1970-01-01T00:00:00Z"))
        #expect(epoch.timeIntervalSince1970 == 0)
        // A leap second is only ever 23:59:60; it is read as the next day's first second.
        let leapSecond = try #require(Timestamps.parse("2016-12-31 23:59:60"))
        #expect(leapSecond.timeIntervalSince1970 == 1_483_228_800)
    }

    @Test(arguments: ["", "garbage", "not a date at all, really", "2021-03-03", "2021/03/03 06:49:42",
                      "2021-13-03T06:49:42Z", "2021-00-03T06:49:42Z", "2021-03-32T06:49:42Z", "2021-03-03T24:00:00Z",
                      "2021-03-03T06:60:42Z", "2021-03-03T06:49:42+01:00", "2021-03-03X06:49:42", "3/9/2021 5:00:00 PM",
                      "22/07/2019 11:57:52", "2021-03-03T06:49:4Z", "\u{FEFF}2021-03-03T06:49:42Z",
                      "2021-03-03T10:00:60Z", "2021-03-03 23:58:60", "2021-03-03T23:59:61Z"])
    func garbageIsNil(_ text: String) {
        #expect(Timestamps.parse(text) == nil)
    }

    /// Days are only checked against 1…31, so 30 February becomes 2 March (also in case.json dates).
    @Test(arguments: ["2021-02-30T06:49:42Z", "2021-04-31 00:00:00", "2021-02-29T00:00:00Z"])
    func impossibleCalendarDatesAreNil(_ text: String) {
        #expect(Timestamps.parse(text) == nil)
    }

    @Test func iso8601KeepsMilliseconds() {
        #expect(Timestamps.iso8601(Date(timeIntervalSince1970: Self.base)) == "2021-03-03T06:49:42.000Z")
        #expect(Timestamps.iso8601(Date(timeIntervalSince1970: Self.base + 0.5)) == "2021-03-03T06:49:42.500Z")
        // What Timestamps.parse returns for a logged value must print back as the same text.
        for text in ["2021-03-03T06:49:42.162Z", "2021-03-03T06:44:21.318Z", "2021-03-03T06:44:38.551Z", "2021-03-05T09:00:00.001Z"] {
            let d = Timestamps.parse(text)
            #expect(d.map(Timestamps.iso8601) == text)
        }
    }
}

@Suite("UserAgent.normalize")
struct UserAgentTests {
    @Test func iisAndHttpProxySpellingsCompareEqual() {
        let iis = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.190+Safari/537.36"
        let httpProxy = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/88.0.4324.190 Safari/537.36"
        let expected = "mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml like gecko) chrome/88.0.4324.190 safari/537.36"
        #expect(UserAgent.normalize(iis) == expected)
        #expect(UserAgent.normalize(httpProxy) == expected)
        let crawlerIIS = "Mozilla/5.0+(X11;+Linux+x86_64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/51.0.2704.103+Safari/537.36"
        let crawlerHP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/51.0.2704.103 Safari/537.36"
        #expect(UserAgent.normalize(crawlerIIS) == UserAgent.normalize(crawlerHP))
    }

    @Test func trimsFoldsAndLowercases() {
        #expect(UserAgent.normalize("  ExchangeServicesClient/0.0.0.0  ") == "exchangeservicesclient/0.0.0.0")
        #expect(UserAgent.normalize("a++b,,c   d") == "a b c d")
        #expect(UserAgent.normalize("") == "")
        #expect(UserAgent.normalize("+++") == "")
    }

    @Test func differentAgentsStayDifferent() {
        #expect(UserAgent.normalize("python-requests/2.25.1") != UserAgent.normalize("python-requests/2.26.0"))
        #expect(UserAgent.normalize("ExchangeServicesClient/0.0.0.0")
                != UserAgent.normalize("Ews_AM_Probe/Local+(ExchangeServicesClient/15.01.2106.002)"))
    }
}

@Suite("TextEncoding.detect")
struct TextEncodingTests {
    struct Det: Equatable {
        var encoding: TextEncoding
        var bom: Int
        init(_ encoding: TextEncoding, _ bom: Int) { self.encoding = encoding; self.bom = bom }
    }

    func detect(_ bytes: [UInt8]) -> Det {
        let r = TextEncoding.detect(bytes[...])
        return Det(r.0, r.bomLength)
    }

    @Test func boms() {
        #expect(detect([0xEF, 0xBB, 0xBF, 0x23, 0x46]) == Det(.utf8, 3))
        #expect(detect([0xFF, 0xFE, 0x23, 0x00]) == Det(.utf16LE, 2))
        #expect(detect([0xFE, 0xFF, 0x00, 0x23]) == Det(.utf16BE, 2))
        #expect(detect(utf16LE("#Software: Microsoft Internet Information Services 10.0\r\n", bom: true)) == Det(.utf16LE, 2))
        #expect(detect(utf16BE("#Software: Microsoft Internet Information Services 10.0\r\n", bom: true)) == Det(.utf16BE, 2))
    }

    @Test func bomlessUTF16() {
        #expect(detect(utf16LE("#Fields: date time s-ip cs-method\r\n", bom: false)) == Det(.utf16LE, 0))
        #expect(detect(utf16BE("#Fields: date time s-ip cs-method\r\n", bom: false)) == Det(.utf16BE, 0))
    }

    @Test func plainUTF8AndShortOrEmpty() {
        #expect(detect(Array("#Software: Microsoft Internet Information Services 10.0\r\n".utf8)) == Det(.utf8, 0))
        #expect(detect(Array("Grüße, 日本\n".utf8)) == Det(.utf8, 0))
        #expect(detect([]) == Det(.utf8, 0))
        #expect(detect([0x61]) == Det(.utf8, 0))
    }
}

@Suite("LineSplitter")
struct LineSplitterTests {
    struct Out: Equatable {
        var lines: [String]
        var ends: [Int]
        var consumed: Int
    }

    func split(_ bytes: [UInt8], _ encoding: TextEncoding = .utf8, atEOF: Bool) -> Out {
        let r = bytes.withUnsafeBufferPointer { LineSplitter.split($0, encoding: encoding, atEOF: atEOF) }
        #expect(r.lines.allSatisfy { !$0.truncated })
        return Out(lines: r.lines.map(\.text), ends: r.lines.map(\.end), consumed: r.consumed)
    }

    func split(_ text: String, atEOF: Bool) -> Out { split(Array(text.utf8), atEOF: atEOF) }

    @Test func lf() {
        #expect(split("a\nbc\n", atEOF: false) == Out(lines: ["a", "bc"], ends: [2, 5], consumed: 5))
        #expect(split("\n\n", atEOF: false) == Out(lines: ["", ""], ends: [1, 2], consumed: 2))
    }

    @Test func crlf() {
        #expect(split("a\r\nbc\r\n", atEOF: false) == Out(lines: ["a", "bc"], ends: [3, 7], consumed: 7))
    }

    @Test func crOnlyAndMixed() {
        #expect(split("a\rb\rc\n", atEOF: false) == Out(lines: ["a", "b", "c"], ends: [2, 4, 6], consumed: 6))
        #expect(split("a\r\rb\n", atEOF: false) == Out(lines: ["a", "", "b"], ends: [2, 3, 5], consumed: 5))
        #expect(split("a\n\r\nb\r", atEOF: true) == Out(lines: ["a", "", "b"], ends: [2, 4, 6], consumed: 6))
    }

    @Test func unterminatedLastLineOnlyAtEOF() {
        #expect(split("a\nbc", atEOF: false) == Out(lines: ["a"], ends: [2], consumed: 2))
        #expect(split("a\nbc", atEOF: true) == Out(lines: ["a", "bc"], ends: [2, 4], consumed: 4))
        #expect(split("abc", atEOF: false) == Out(lines: [], ends: [], consumed: 0))
        #expect(split("", atEOF: true) == Out(lines: [], ends: [], consumed: 0))
    }

    @Test func crAtBufferEndWaitsForAPossibleLF() {
        #expect(split("x\na\r", atEOF: false) == Out(lines: ["x"], ends: [2], consumed: 2))
        #expect(split("a\r", atEOF: false) == Out(lines: [], ends: [], consumed: 0))
        // Once the LF arrives the CRLF is one terminator, not two lines.
        #expect(split("a\r\n", atEOF: false) == Out(lines: ["a"], ends: [3], consumed: 3))
        // At EOF a trailing CR is a terminator.
        #expect(split("a\r", atEOF: true) == Out(lines: ["a"], ends: [2], consumed: 2))
    }

    @Test func utf8BOMIsStrippedByTheCaller() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("#Fields: a\r\nrow\r\n".utf8)
        let (enc, bom) = TextEncoding.detect(bytes[...])
        #expect(enc == .utf8 && bom == 3)
        #expect(split(Array(bytes.dropFirst(bom)), enc, atEOF: false) == Out(lines: ["#Fields: a", "row"], ends: [12, 17], consumed: 17))
    }

    @Test func utf16LittleEndianWithBOM() {
        let bytes = utf16LE("#Fields: x\r\nGrüße 😀\nlast", bom: true)
        let (enc, bom) = TextEncoding.detect(bytes[...])
        #expect(enc == .utf16LE && bom == 2)
        let body = Array(bytes.dropFirst(bom))
        // Ends and consumed are byte offsets.
        #expect(split(body, enc, atEOF: false) == Out(lines: ["#Fields: x", "Grüße 😀"], ends: [24, 42], consumed: 42))
        #expect(split(body, enc, atEOF: true) == Out(lines: ["#Fields: x", "Grüße 😀", "last"], ends: [24, 42, 50], consumed: 50))
    }

    @Test func utf16BigEndianWithBOM() {
        let bytes = utf16BE("a\r\nb\rc\n", bom: true)
        let (enc, bom) = TextEncoding.detect(bytes[...])
        #expect(enc == .utf16BE && bom == 2)
        #expect(split(Array(bytes.dropFirst(bom)), enc, atEOF: false) == Out(lines: ["a", "b", "c"], ends: [6, 10, 14], consumed: 14))
    }

    @Test func bomlessUTF16LittleEndian() {
        let bytes = utf16LE("#Software: Microsoft Internet Information Services 10.0\r\n2021-03-03 x\r\n", bom: false)
        let (enc, bom) = TextEncoding.detect(bytes[...])
        #expect(enc == .utf16LE && bom == 0)
        #expect(split(bytes, enc, atEOF: false).lines == ["#Software: Microsoft Internet Information Services 10.0", "2021-03-03 x"])
    }

    @Test func utf16CRAtBufferEndWaits() {
        let bytes = utf16LE("a\r", bom: false)
        #expect(split(bytes, .utf16LE, atEOF: false) == Out(lines: [], ends: [], consumed: 0))
        #expect(split(bytes, .utf16LE, atEOF: true) == Out(lines: ["a"], ends: [4], consumed: 4))
        // An odd trailing byte is an incomplete code unit: not consumed before EOF.
        let odd = utf16LE("a\nb", bom: false) + [0x63]
        #expect(split(odd, .utf16LE, atEOF: false) == Out(lines: ["a"], ends: [4], consumed: 4))
    }

    @Test func invalidUTF8BecomesReplacementCharacter() {
        let out = split([0x61, 0xFF, 0x62, 0x0A, 0xC3, 0x28, 0x0A, 0xE2, 0x82, 0x0A], atEOF: false)
        #expect(out.lines == ["a\u{FFFD}b", "\u{FFFD}(", "\u{FFFD}"])
        #expect(out.consumed == 10)
    }
}

@Suite("ISO-8601 output")
struct ISO8601OutputTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_614_754_182.162, "2021-03-03T06:49:42.162Z"),
        (951_782_400.0, "2000-02-29T00:00:00.000Z"),
        (1_609_459_199.999, "2020-12-31T23:59:59.999Z"),
        (-1.0, "1969-12-31T23:59:59.000Z"),
        (4_102_444_800.5, "2100-01-01T00:00:00.500Z"),
    ])
    func formats(seconds: Double, expected: String) {
        #expect(Timestamps.iso8601(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func roundTripsThroughParse() {
        for s in stride(from: 1_600_000_000.0, to: 1_700_000_000.0, by: 987_654.321) {
            let d = Date(timeIntervalSince1970: (s * 1000).rounded(.down) / 1000)
            #expect(Timestamps.parse(Timestamps.iso8601(d)) == d)
        }
    }
}
