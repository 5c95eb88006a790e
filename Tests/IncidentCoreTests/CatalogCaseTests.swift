import Foundation
import Testing
@testable import IncidentCore

extension RuleCase {
    static func tool(_ target: String, _ hit: Bool, _ name: String, _ format: EvidenceFormat, _ lines: [String], _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: format, lines: lines, expected: expected)
    }
}

/// Hit and near-miss cases for the catalog rows added with the coverage work (issue 3B).
enum CatalogCases {
    static let other = ["#TYPE System.Management.Automation.PSCustomObject", "\"ComputerName\",\"Type\",\"Path\",\"Name\",\"LastWrite\""]
    static let lsass = "\"EXCH01\",\"LsassDump\",\"C:\\Windows\\Temp\\lsass.dmp\",\"lsass.dmp\",\"3/9/2021 5:00:00 PM\""
    /// Pitfall 1 (CSS-Exchange issues/311): McAfee ZIPs, culture-formatted date.
    static let mcafee = "\"EXCH01\",\"SuspiciousArchive\",\"C:\\ProgramData\\McAfee\\Common Framework\\Task\\5.zip\",\"5.zip\",\"22/07/2019 11:57:52\""
    static let logAge = ["#TYPE System.Management.Automation.PSCustomObject",
                         "\"OabGen\",\"Ecp\",\"AutoDProxy\",\"EasProxy\",\"EcpProxy\",\"EwsProxy\",\"MapiProxy\",\"OabProxy\",\"OwaProxy\",\"OwaCalendarProxy\",\"PowershellProxy\",\"RpcHttpProxy\"",
                         "\"30,3\",\"29,8\",\"30,0\",\"\",\"29,9\",\"30,1\",\"30,2\",\"\",\"30,0\",\"\",\"12,5\",\"30,0\""]
    static let iisBackEnd = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"

    static let all: [RuleCase] = [
        .hp("PL-006", true, "X-BEResource routing on a ServerInfo~ anchor without a path (missed by ServerInfo~*/*)",
            ["AnchorMailbox": "ServerInfo~exch01.corp.example", "RoutingHint": "X-BEResource-Cookie"], ["PL-006"]),
        .hp("PL-006", false, "X-BEResource routing on a full SSRF row is PL-001's",
            ["AnchorMailbox": "ServerInfo~a]@exch/mapi/emsmdb/?#", "RoutingHint": "X-BEResource-Cookie"], ["PL-001"]),
        .hp("PL-010", true, "/ecp/y.js with a ServerInfo~ anchor without a path",
            ["AnchorMailbox": "ServerInfo~exch01.corp.example", "UrlStem": "/ecp/y.js"], ["PL-010"]),
        .hp("PL-010", false, "/ecp/abcd.js (four characters)",
            ["AnchorMailbox": "ServerInfo~exch01.corp.example", "UrlStem": "/ecp/abcd.js"], []),
        .ecp("PL-014", true, "Chopper payload in the OAB ExternalUrl", ECPLog.lines(cmd: ECPLog.maliciousCmd),
             ["PL-011", "PL-012", "PL-013", "PL-014"]),
        .ecp("PL-014", false, "administrator sets a plain OAB ExternalUrl", ECPLog.lines(cmd: ECPLog.adminOabCmd), ["PL-011", "PL-013"]),
        .iis("IIS-066", true, "back-end reset of the OAB virtual directory by the machine account",
             IISLog.lines("POST", "/ecp/DDI/DDIService.svc/SetObject", query: "schema=ResetOABVirtualDirectory&msExchEcpCanary=x", user: "EXCH01$"),
             ["IIS-066"]),
        .iis("IIS-066", false, "an administrator resetting a virtual directory",
             IISLog.lines("POST", "/ecp/DDI/DDIService.svc/SetObject", query: "schema=ResetOABVirtualDirectory&msExchEcpCanary=x", user: "CORP\\admin"),
             []),
        .iis("IIS-062", true, "GET /rpc/ with an empty CorrelationID answered 200",
             IISLog.lines("GET", "/rpc/", query: "&CorrelationID=<empty>;&RequestId=7c1b3b7e-0bd3-4b0f-9b2e-6b8e0a7c1a11"), ["IIS-062"]),
        .iis("IIS-062", false, "the same request denied (401)",
             IISLog.lines("GET", "/rpc/", query: "&CorrelationID=<empty>;&RequestId=7c1b3b7e-0bd3-4b0f-9b2e-6b8e0a7c1a11", status: "401"), []),
        .iis("IIS-064", true, "back-end request with query t=",
             [iisBackEnd, "2021-03-03 06:44:21 10.0.0.21 GET /ecp/ t=1614753861 444 - 10.0.0.21 - - 200 0 0 38"], ["IIS-064"]),
        .iis("IIS-064", false, "front-end request with query t=",
             [iisBackEnd, "2021-03-03 06:44:21 10.0.0.21 GET /ecp/ t=1614753861 443 - 10.0.12.34 - - 200 0 0 38"], []),
        .tool("CF-069", true, "MSERT detection line", .msertLog,
              ["Microsoft Safety Scanner v1.333, (build 1.333.1050.0)", "Threat Detected: Exploit:Script/Exmann.A!dha, not removed."], ["CF-069"]),
        .tool("CF-069", false, "MSERT clean result", .msertLog, ["Microsoft Safety Scanner v1.333, (build 1.333.1050.0)", "No infection found."], []),
        .tool("EOMT-001", true, "EOMT error line", .eomtLog,
              ["2021-03-16 09:13:02 Error: Unable to download the IIS URL Rewrite Module (404)"], ["EOMT-001"]),
        .tool("EOMT-001", false, "EOMT information line", .eomtLog, ["2021-03-16 09:12:44 Info: Starting EOMT.ps1"], []),
        .tool("WC-001", true, "EOMT's X-BEResource rule in web.config", .webConfig,
              ["<configuration><system.webServer><rewrite><rules>", "<rule name=\"X-BEResource Abort - inbound\" stopProcessing=\"true\">",
               "<match url=\".*\" /><conditions><add input=\"{HTTP_COOKIE}\" pattern=\"(.*)X-BEResource=(.+)/(.+)~(.+)\" /></conditions>",
               "<action type=\"AbortRequest\" />", "</rule>"], ["WC-001"]),
        .tool("WC-001", false, "a cookie rule that only logs is not the mitigation", .webConfig,
              ["<configuration><system.webServer><rewrite><rules>", "<rule name=\"X-BEResource Abort - inbound\">",
               "<conditions><add input=\"{HTTP_COOKIE}\" pattern=\"(.*)X-BEResource=(.+)/(.+)~(.+)\" /></conditions>",
               "<action type=\"None\" />", "</rule>"], []),
        .tool("TPL-001", true, "LsassDump row", .testProxyLogon, other + [lsass], ["TPL-001"]),
        .tool("TPL-001", false, "archive row", .testProxyLogon, other + [mcafee], ["TPL-002"]),
        .tool("TPL-002", true, "McAfee archive row (review only)", .testProxyLogon, other + [mcafee], ["TPL-002"]),
        .tool("TPL-002", false, "LsassDump row", .testProxyLogon, other + [lsass], ["TPL-001"]),
        .tool("TPL-003", true, "ECP log listed by the 27065 test", .testProxyLogon,
              ["C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\ECP\\Server\\ECPServer2021030301-1.LOG"], ["TPL-003"]),
        .tool("TPL-003", false, "OAB generator log list of the 26858 test", .testProxyLogon,
              ["C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\OABGeneratorLog\\OABGen_20210303.LOG"], []),
        .tool("TPL-004", true, "download path into aspnet_client", .testProxyLogon,
              ["'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx'"], ["TPL-004"]),
        .tool("TPL-004", false, "legitimate OAB temporary path (pre-03-18 output)", .testProxyLogon, [OABLog.benignTemp], []),
        .tool("TPL-005", true, "UM InvalidCastException event", .testProxyLogon,
              ["\"TimeCreated\",\"MachineName\",\"Message\"",
               "\"3/3/2021 6:40:01 AM\",\"EXCH01\",\"An unhandled exception occurred in a UM worker process: System.InvalidCastException\""], ["TPL-005"]),
        .tool("TPL-005", false, "log-age file", .testProxyLogon, logAge, []),
    ]
}

@Suite("Indicator catalog completeness")
struct CatalogCompletenessTests {
    /// Every row of proxylogon.md section 6 that reads logs, inventories or tool output is in the
    /// pack (event, process, file-content and build rows belong to the EVTX/YARA and patch-state work).
    @Test func catalogRowsArePresentWithKindAndStage() throws {
        let pack = try BuiltInData.indicatorPack()
        let byID = Dictionary(uniqueKeysWithValues: pack.indicators.map { ($0.id, $0) })
        let expected: [String: String] = [
            "PL-001": "log-pattern", "PL-002": "log-pattern", "PL-003": "log-pattern", "PL-004": "log-pattern",
            "PL-005": "log-pattern", "PL-006": "log-pattern", "PL-007": "log-pattern", "PL-008": "log-pattern",
            "PL-009": "log-pattern", "PL-010": "log-pattern", "PL-011": "log-pattern", "PL-012": "log-pattern",
            "PL-013": "log-pattern", "PL-014": "log-pattern", "PL-015": "log-pattern", "PL-016": "log-pattern",
            "FP-033": "file-path", "FP-034": "file-path", "FP-035": "file-path", "FP-036": "file-path", "FP-037": "file-path",
            "FP-038": "file-path", "FP-039": "file-path", "FP-040": "file-path", "FP-041": "file-path", "FP-042": "file-path",
            "FP-043": "file-path", "FH-044": "file-hash", "FH-045": "file-hash", "FH-046": "file-hash", "FH-047": "file-hash",
            "IP-054": "ip", "IP-055": "ip", "UA-056": "user-agent", "UA-057": "user-agent", "UA-058": "user-agent",
            "IIS-059": "log-pattern", "IIS-060": "log-pattern", "IIS-062": "log-pattern", "IIS-063": "log-pattern",
            "IIS-064": "log-pattern", "IIS-066": "log-pattern", "DN-065": "domain", "CF-068": "registry", "CF-069": "tool-output",
            "PS-001": "log-pattern", "PNS-001": "log-pattern", "BL-001": "file-hash",
            "FP-077": "file-path", "IIS-078": "log-pattern", "PL-017": "log-pattern",
        ]
        for (id, kind) in expected {
            let i = try #require(byID[id], "\(id) missing")
            #expect(i.catalogKind == kind, "\(id)")
        }
        #expect(try #require(byID["IIS-066"]).ruleText ==
                "cs-method equals 'POST' AND cs-uri-stem equals '/ecp/DDI/DDIService.svc/SetObject' AND sc-status equals '200' AND cs-uri-query contains 'schema=reset' AND cs-uri-query contains 'virtualdirectory' AND cs-username endsWith '$'")
        #expect(try #require(byID["PL-004"]).ruleText == "AuthenticatedUser is empty AND AnchorMailbox like 'ServerInfo~*/*'")
        #expect(try #require(byID["FH-044"]).ruleText == "Hash inList microsoft-hafnium-webshell-sha256")
    }
}
