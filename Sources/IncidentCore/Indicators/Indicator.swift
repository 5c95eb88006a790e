import Foundation

/// The evidence formats the scanner recognises by content.
public enum EvidenceFormat: String, Codable, Sendable, CaseIterable {
    /// Exchange HttpProxy CSV logs (`Logging\HttpProxy\<Protocol>\HttpProxy_*.LOG`).
    case httpProxy = "exchange-httpproxy"
    /// Exchange ECP server logs (`Logging\ECP\Server\*.LOG`, `#Log-type: ECP Server Log`).
    case ecpServer = "exchange-ecp-server"
    /// Exchange OAB generator logs (`Logging\OABGeneratorLog\`).
    case oabGenerator = "exchange-oab-generator"
    /// IIS W3C extended logs (`u_exYYMMDD.log`).
    case iisW3C = "iis-w3c"
    /// File inventories: `Get-ChildItem -Recurse | Get-FileHash | Export-Csv` (`Algorithm`, `Hash`, `Path`),
    /// plain `path,sha256` CSV (with or without a header) and Velociraptor hunt JSONL (`FullPath` / `OSPath`).
    case fileInventory = "file-inventory"
    /// Test-ProxyLogon.ps1 output files other than the HttpProxy-shaped CSVs (see ``TestProxyLogonParser``).
    case testProxyLogon = "test-proxylogon"
    /// Microsoft Safety Scanner logs (`msert.log`).
    case msertLog = "msert-log"
    /// Exchange On-premises Mitigation Tool logs (`EOMT.log`).
    case eomtLog = "eomt-log"
    /// Microsoft known-good hash baselines (`HASH,build,relative\path`, CSS-Exchange), used as an allow-list.
    case hashBaseline = "hash-baseline"
    /// IIS `web.config`, read for the URL Rewrite mitigation rules of CVE-2021-26855 (see ``WebConfigParser``).
    case webConfig = "iis-web-config"
    /// Windows event logs (`.evtx`, recognised by the `ElfFile\0` signature), read through libevtx.
    case windowsEvtx = "windows-evtx"
    /// Any other collected file (web-shell copies, scripts, binaries), scanned whole with YARA rules.
    case collectedFile = "collected-file"

    /// Short label for the console.
    public var label: String {
        switch self {
        case .httpProxy: "HttpProxy"
        case .ecpServer: "ECP server"
        case .oabGenerator: "OAB generator"
        case .iisW3C: "IIS W3C"
        case .fileInventory: "file inventory"
        case .testProxyLogon: "Test-ProxyLogon output"
        case .msertLog: "MSERT log"
        case .eomtLog: "EOMT log"
        case .hashBaseline: "known-good hash baseline"
        case .webConfig: "IIS web.config"
        case .windowsEvtx: "Windows event log"
        case .collectedFile: "collected file (YARA)"
        }
    }
}

/// One indicator of compromise or attack, as stored in an indicator pack.
///
/// JSON shape: `{"id", "title", "description", "severity", "stage", "cve", "formats": [format],
/// "field": display field, "all": [condition], "sources": [URL], "falsePositives"}`.
/// Every condition in `all` must hold for a record to hit.
public struct Indicator: Codable, Sendable, Equatable, Identifiable {
    /// Stable id, e.g. `PL-001` (catalog ids of `proxylogon.md` §6 where one exists).
    public var id: String
    /// One line for the hit list.
    public var title: String
    /// What a hit means and what to check next.
    public var description: String
    public var severity: Severity
    public var stage: Stage
    /// CVE id (`CVE-2021-26855`) or campaign label (`ProxyShell`, `HAFNIUM`).
    public var cve: String?
    /// Formats whose records this indicator is evaluated on.
    public var formats: [EvidenceFormat]
    /// The logical field reported as the hit's field and value (see ``LogRecord``).
    public var field: String
    /// Conditions that must all hold.
    public var all: [Condition]
    /// URLs of the public sources this indicator's facts come from.
    public var sources: [String]
    /// Known benign look-alikes, for the analyst.
    public var falsePositives: String?
    /// Indicator ids that, when they hit on the same server from the same client address, make
    /// this indicator's hit redundant (PL-002's autodiscover attempt when PL-001 shows the chain
    /// went further).
    public var suppressedBy: [String]?
    /// Catalog kind (`log-pattern`, `file-path`, `file-hash`, `file-content`, `ip`, `user-agent`,
    /// `event`, `process`, `domain`, `config`, `registry`, `tool-output`); when absent,
    /// ``catalogKind`` derives it from the id prefix.
    public var kind: String?
}

extension Indicator {
    /// The indicator's kind: ``kind`` when set, else derived from the catalog id prefix of
    /// `../shared/knowledge/proxylogon.md` §6 (`PL-`/`IIS-`/`PS-` → `log-pattern`, `FP-` →
    /// `file-path`, `FH-` → `file-hash`, `FC-`/`WE-` → `file-content`, `IP-` → `ip`, `UA-` →
    /// `user-agent`, `EV-`/`AC-` → `event`, `PR-` → `process`, `DN-` → `domain`, `CF-` → `config`).
    public var catalogKind: String {
        if let kind, !kind.isEmpty { return kind }
        let prefix = id.split(separator: "-").first.map { $0.uppercased() } ?? ""
        switch prefix {
        case "FP", "FW": return "file-path"
        case "FH": return "file-hash"
        case "FC", "WE", "YARA": return "file-content"
        case "IP": return "ip"
        case "UA": return "user-agent"
        case "EV", "AC": return "event"
        case "PR": return "process"
        case "DN": return "domain"
        case "CF": return "config"
        case "TPL", "MSERT", "EOMT": return "tool-output"
        default: return "log-pattern"
        }
    }

    /// The match rule as one line of text, e.g. `AnchorMailbox like 'ServerInfo~*/*' AND …`;
    /// `(not evaluated on any evidence format)` for catalog rows kept for reference only.
    public var ruleText: String {
        if all.isEmpty { return "(no condition)" }
        return all.map(\.text).joined(separator: " AND ")
    }
}

extension Condition {
    /// The condition as text: `field op 'value'` (lists in brackets, list names after `in`).
    public var text: String {
        func q(_ s: String) -> String { "'" + s + "'" }
        switch op {
        case .likeAny, .notLikeAny, .containsAny, .startsWithAny, .endsWithAny:
            return "\(field) \(op.rawValue) [\(values.map(q).joined(separator: ", "))]"
        case .empty: return "\(field) \(flag ? "is empty" : "is not empty")"
        case .inList, .notInList, .userAgentInList: return "\(field) \(op.rawValue) \(values.first ?? "")"
        case .predicate: return "\(values.first ?? "")(\(field))"
        default: return "\(field) \(op.rawValue) \(q(values.first ?? ""))"
        }
    }
}

/// One test on one field of a record. All comparisons are case-insensitive.
///
/// JSON shape: `{"field": name, "<op>": value}` with exactly one operator key:
/// `like` / `notLike` (PowerShell wildcard: `*` any run, `?` one character), `likeAny` /
/// `notLikeAny` (array), `equals` / `notEquals`, `contains` / `notContains`, `containsAny`
/// (array), `startsWith`, `startsWithAny` (array), `endsWith`, `endsWithAny` (array), `inList` / `notInList` (name of a
/// list in the pack), `userAgentInList` (list name; `+`, commas and repeated spaces are folded so
/// IIS and HttpProxy spellings compare equal), `regex` (ICU syntax), `empty` (true/false),
/// `predicate` (a named check written in code: `ecpScriptInUrl`, `oabPathOutsideClientAccess`),
/// `regexInList` (name of a pattern list in the pack: any of its regexes matches, unless that
/// regex's exclusion also matches), `domainInList` (list name: the host or one of its parent
/// domains is listed),
/// `fileNameInList` / `fileNameNotInList` (list name; the value's last path component, after the
/// last `\` or `/`, e.g. `cmd.exe` of `C:\Windows\System32\cmd.exe`; an absent or empty value
/// fails both). The field `raw-line` is the whole evidence line.
public struct Condition: Codable, Sendable, Equatable {
    public enum Operator: String, Codable, Sendable, CaseIterable {
        case like, notLike, likeAny, notLikeAny, equals, notEquals, contains, notContains, containsAny
        case startsWith, startsWithAny, endsWith, endsWithAny, inList, notInList, userAgentInList, regex, empty, predicate
        /// Any regex of a pattern list of the pack (``IndicatorPack/patternLists``) matches.
        case regexInList
        /// The value is a host name equal to, or below, a domain of a list (`a.evil.com` is in `evil.com`).
        case domainInList
        case fileNameInList, fileNameNotInList
    }

    public var field: String
    public var op: Operator
    /// The operand: one string, several strings, a list name or a predicate name (lowercased
    /// when the comparison is textual).
    public var values: [String]
    /// For `empty`: whether the field must be empty (true) or non-empty (false).
    public var flag: Bool

    public init(field: String, op: Operator, values: [String] = [], flag: Bool = true) {
        self.field = field
        self.op = op
        self.values = values
        self.flag = flag
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        field = try c.decode(String.self, forKey: Key(stringValue: "field"))
        let opKeys = c.allKeys.filter { $0.stringValue != "field" }
        guard opKeys.count == 1, let key = opKeys.first, let op = Operator(rawValue: key.stringValue) else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                debugDescription: "a condition needs \"field\" and exactly one operator of: \(Operator.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        self.op = op
        self.flag = true
        switch op {
        case .likeAny, .notLikeAny, .containsAny, .startsWithAny, .endsWithAny:
            values = try c.decode([String].self, forKey: key)
        case .empty:
            flag = try c.decode(Bool.self, forKey: key)
            values = []
        default:
            values = [try c.decode(String.self, forKey: key)]
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(field, forKey: Key(stringValue: "field"))
        let key = Key(stringValue: op.rawValue)
        switch op {
        case .likeAny, .notLikeAny, .containsAny, .startsWithAny, .endsWithAny: try c.encode(values, forKey: key)
        case .empty: try c.encode(flag, forKey: key)
        default: try c.encode(values.first ?? "", forKey: key)
        }
    }
}

/// A named set of indicators with the value lists they refer to.
///
/// JSON shape: `{"name", "version", "description", "lists": {name: [value]}, "indicators": [Indicator]}`.
public struct IndicatorPack: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var description: String?
    /// Value lists (hashes, IP addresses, paths, user agents) referenced by `inList` conditions.
    public var lists: [String: [String]]
    public var indicators: [Indicator]
    /// Regex lists referenced by `regexInList` conditions (imported packs); nil when none.
    public var patternLists: [String: [PatternEntry]]? = nil

    public init(name: String, version: String, description: String? = nil, lists: [String: [String]],
                indicators: [Indicator], patternLists: [String: [PatternEntry]]? = nil) {
        self.name = name
        self.version = version
        self.description = description
        self.lists = lists
        self.indicators = indicators
        self.patternLists = patternLists
    }
}
