import Foundation

/// One indicator matching one evidence line (or one file-inventory row).
public struct Hit: Codable, Sendable, Equatable, Identifiable {
    /// Stable id: the first 16 hex digits of SHA-256 over `indicator|evidence|line|field`, so the
    /// same finding keeps its id (and its triage) across rescans and restarts.
    public var id: String
    /// Indicator id, e.g. `PL-001`.
    public var indicator: String
    public var severity: Severity
    public var stage: Stage
    /// CVE id or campaign stage label, e.g. `CVE-2021-26855` or `ProxyShell`.
    public var cve: String?
    /// Server name.
    public var server: String
    /// Evidence path relative to the case folder.
    public var evidence: String
    /// 1-based line number in the evidence file.
    public var line: Int
    /// Event time in UTC when the line carries one.
    public var time: Date?
    /// The field the indicator looked at, spelled as in the log header (e.g. `AnchorMailbox`).
    public var field: String
    /// That field's value (raw attacker-controlled text: sanitise before display).
    public var value: String
    /// The client address of the request when the format has one (`c-ip`, `ClientIpAddress`).
    public var clientIP: String?
    /// The whole evidence line (raw; sanitise before display). Capped at 64 KiB.
    public var rawLine: String

    public init(indicator: Indicator, server: String, evidence: String, line: Int, time: Date?, field: String, value: String, clientIP: String?, rawLine: String) {
        self.id = Hit.makeID(indicator: indicator.id, evidence: evidence, line: line, field: field)
        self.indicator = indicator.id
        self.severity = indicator.severity
        self.stage = indicator.stage
        self.cve = indicator.cve
        self.server = server
        self.evidence = evidence
        self.line = line
        self.time = time
        self.field = field
        self.value = value
        self.clientIP = clientIP
        self.rawLine = rawLine
    }

    /// The stable id for a hit; see ``id``.
    public static func makeID(indicator: String, evidence: String, line: Int, field: String) -> String {
        String(SHA256Hex.digest(Array("\(indicator)|\(evidence)|\(line)|\(field)".utf8)).prefix(16))
    }

    /// Most severe first, then newest first, then by evidence and line.
    public static func displayOrder(_ a: Hit, _ b: Hit) -> Bool {
        if a.severity != b.severity { return a.severity > b.severity }
        switch (a.time, b.time) {
        case let (x?, y?) where x != y: return x > y
        case (.some, nil): return true
        case (nil, .some): return false
        default: break
        }
        if a.evidence != b.evidence { return a.evidence < b.evidence }
        if a.line != b.line { return a.line < b.line }
        return a.indicator < b.indicator
    }
}
