import Foundation
import Testing
@testable import IncidentCore

/// A row with more or fewer values than its header names (an unquoted comma in a user agent, a
/// stray space in an IIS field) is still matched, but its values may sit under other columns'
/// names: its client address is not trusted.
@Suite("Rows whose value count differs from the header")
struct MismatchedRowTests {
    @Test("an HttpProxy row with an unquoted comma still hits, with no client address; the chain lists only real clients")
    func httpProxyShiftedRow() throws {
        let dir = try TempDir("mismatched-proxy")
        let ssrf = ["AnchorMailbox": "ServerInfo~a]@exch01.corp.example:444/mapi/emsmdb/?#", "UrlStem": "/ecp/y.js",
                    "ClientIpAddress": "104.140.114.110", "UserAgent": "UAMARK", "DateTime": "2021-03-03T06:44:21.318Z"]
        let good = HttpProxyLog.row(ssrf).replacingOccurrences(of: ",UAMARK,", with: ",python-requests/2.25.1,")
        // Exchange quotes a comma; this writer did not, so every later value moves one column right.
        let shifted = HttpProxyLog.row(ssrf.merging(["ClientIpAddress": "198.51.100.7"]) { $1 })
            .replacingOccurrences(of: ",UAMARK,", with: ",Mozilla/5.0 (KHTML, like Gecko),")
        _ = try dir.write("evidence/EXCH01/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG",
                          ([HttpProxyLog.headerLine] + HttpProxyLog.directives + [good, shifted]).joined(separator: "\r\n") + "\r\n")
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.threads = 1
        scanner.scan(caseFolder: dir.url)
        let hits = scanner.hits.filter { $0.indicator == "PL-001" }.sorted { $0.line < $1.line }
        #expect(hits.map(\.line) == [7, 8])
        #expect(hits.map(\.clientIP) == ["104.140.114.110", nil])
        #expect(scanner.statuses.first?.warnings.contains("1 row(s) with a different number of values than the header") == true)
        let chains = Chains.build(hits: scanner.hits, formats: [:])
        #expect(chains.flatMap(\.clientIPs).contains(" like Gecko)") == false)
        #expect(Set(chains.flatMap(\.clientIPs)) == ["104.140.114.110"])
    }

    @Test("an IIS line with an extra token keeps its hit but not its c-ip; a headerless default-layout line keeps both")
    func iisShiftedLine() throws {
        let dir = try TempDir("mismatched-iis")
        let lines = IISLog.header + [
            IISLog.line("POST", "/aspnet_client/discover.aspx", ip: "5.254.43.18", ua: "antSword/v2.1"),
            // A space inside the query: c-ip now reads the port's neighbour.
            IISLog.line("POST", "/aspnet_client/discover.aspx", query: "a b", ip: "5.254.43.18", ua: "antSword/v2.1"),
        ]
        _ = try dir.write("evidence/EXCH01/IIS/W3SVC1/u_ex210303.log", lines.joined(separator: "\r\n") + "\r\n")
        let scanner = EvidenceScanner(engine: try RuleEngine.builtIn())
        scanner.threads = 1
        scanner.scan(caseFolder: dir.url)
        let byLine = Dictionary(grouping: scanner.hits, by: \.line)
        #expect(byLine.keys.sorted() == [5, 6])
        #expect(Set(byLine[5]?.map(\.clientIP) ?? []) == ["5.254.43.18"])
        #expect(Set(byLine[6]?.map(\.clientIP) ?? []) == [nil])
        #expect(scanner.statuses.first?.warnings.contains("1 line(s) whose field count differs from #Fields") == true)
    }
}
