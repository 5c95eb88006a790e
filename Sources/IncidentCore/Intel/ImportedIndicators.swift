import Foundation

/// The kind of an atomic indicator brought in from outside (a feed, a sharing group, a vendor).
///
/// Each kind is matched against the evidence fields it can appear in (see ``ImportedPackCompiler``).
public enum IOCType: String, Codable, Sendable, CaseIterable, Comparable {
    case sha256, sha1, md5
    /// A file name without folders, e.g. `supp0rt.aspx`; matched against inventories' `FileName`.
    case fileName = "file-name"
    /// A full Windows path, e.g. `C:\inetpub\wwwroot\aspnet_client\shell.aspx`; matched against
    /// inventories' `Path`, and, under an Exchange or IIS web folder, against requested URLs.
    case filePath = "file-path"
    /// A regular expression on full file paths (signature-base `filename-iocs.txt`).
    case filePathRegex = "file-path-regex"
    case ipv4, ipv6
    /// A host name or domain; matched against the requested host (`cs-host`, `UrlHost`), the
    /// domain itself or any name below it.
    case domain
    /// A URL; its host is matched as a domain and its path (when not `/`) against `cs-uri-stem` / `UrlStem`.
    case url
    /// A user agent; compared after folding IIS `+` and HttpProxy double spaces.
    case userAgent = "user-agent"
    /// A literal that a log line must contain (CHIRP rules aimed at log files); `scope` names the format.
    case logString = "log-string"
    /// A regular expression on whole log lines (CHIRP rules aimed at log files); `scope` names the format.
    case logRegex = "log-regex"
    /// A whole YARA rule for file contents (kept as text; see ``ImportedIOC/value``).
    case yaraRule = "yara-rule"

    public static func < (a: IOCType, b: IOCType) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One atomic indicator of an imported pack.
///
/// JSON shape: `{"type", "value", "description"?, "score"?, "exclude"?, "scope"?, "line"?}`.
public struct ImportedIOC: Codable, Sendable, Equatable, Hashable {
    public var type: IOCType
    /// The indicator as the source gives it; hashes and domains lowercased, IPv6 as written.
    public var value: String
    /// The source's own words about it (MISP comment, signature-base description, feed name).
    public var description: String?
    /// signature-base score 0…100, CHIRP confidence ×10, MISP `to_ids` → 75; nil when the source gives none.
    public var score: Int?
    /// For `file-path-regex`: a regex of paths that are known false positives.
    public var exclude: String?
    /// For `log-string` / `log-regex`: the evidence format the line must come from.
    public var scope: EvidenceFormat?
    /// 1-based line of the source file it came from (text formats), for the analyst.
    public var line: Int?

    public init(type: IOCType, value: String, description: String? = nil, score: Int? = nil,
                exclude: String? = nil, scope: EvidenceFormat? = nil, line: Int? = nil) {
        self.type = type
        self.value = value
        self.description = description
        self.score = score
        self.exclude = exclude
        self.scope = scope
        self.line = line
    }

    /// Identity for de-duplication and round trips: type, scope and value (case-insensitive
    /// except for regexes and YARA rules, whose case matters).
    public var key: String {
        let v: String
        switch type {
        case .filePathRegex, .logRegex, .yaraRule: v = value
        default: v = value.lowercased()
        }
        return "\(type.rawValue)|\(scope?.rawValue ?? "")|\(v)"
    }
}

/// The formats `incident indicators import` reads, detected from content.
public enum IndicatorSourceFormat: String, Codable, Sendable, CaseIterable {
    /// STIX 2.1 bundle (JSON, `"type": "bundle"`): `indicator` objects whose `pattern` compares
    /// `file:hashes`, `file:name`, `ipv4-addr`, `ipv6-addr`, `domain-name` or `url` values
    /// (https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html).
    case stix = "stix"
    /// MISP event JSON (`{"Event": {"Attribute": [...], "Object": [...]}}`, also wrapped in
    /// `response`) (https://www.misp-project.org/datamodels/).
    case misp = "misp"
    /// Microsoft's MSTIC feed CSV (`DateAdded,FirstSeen,Indicator,IndicatorType,TLP`), as in
    /// https://github.com/Azure/Azure-Sentinel/tree/master/Sample%20Data/Feeds.
    case msticCSV = "mstic-csv"
    /// CISA CHIRP indicator YAML (multi-document; `ioc_type` network / yara / events)
    /// (https://github.com/cisagov/CHIRP).
    case chirpYAML = "chirp-yaml"
    /// signature-base `filename-iocs.txt` (`REGEX;SCORE[;FP-REGEX]`) (https://github.com/Neo23x0/signature-base).
    case signatureBaseFilenames = "signature-base-filename"
    /// signature-base `hash-iocs.txt` (`HASH;description`).
    case signatureBaseHashes = "signature-base-hash"
    /// signature-base `c2-iocs.txt` (one IP address or host per line).
    case signatureBaseC2 = "signature-base-c2"
    /// CSV with a header naming a value column (`value`, `indicator`, `ioc`) and optionally a type
    /// column (`type`, `indicator_type`) and a description column.
    case csv = "csv"
    /// One indicator per line; the kind of each is inferred (hash by length, IP, URL, path, domain).
    case text = "text"
    /// This program's own export (`incident indicators export --format json`).
    case incidentJSON = "incident-json"
}

/// A line or object of an indicator file that could not be imported, and why.
public struct ImportProblem: Codable, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line in the source file (0 when the source is JSON and has no useful line).
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// An imported indicator pack as stored with a case, in `CASE/indicators/<id>.json`.
///
/// JSON shape: `{"id", "name", "format", "sourceFile", "sourceSHA256", "sourceSizeBytes",
/// "importedAt" (ISO-8601 UTC), "importedBy", "iocs": [ImportedIOC], "problems": [ImportProblem]}`.
/// Whether it is enabled is kept in the case file (``IndicatorPackRecord``), so enabling and
/// disabling are audited and never rewrite the pack.
public struct ImportedPack: Codable, Sendable, Equatable {
    /// Short id used in indicator ids and file names: lowercase letters, digits and `-`.
    public var id: String
    public var name: String
    public var format: IndicatorSourceFormat
    /// File name of the source as imported (no folders).
    public var sourceFile: String
    /// Lowercase hex SHA-256 of the source file's bytes.
    public var sourceSHA256: String
    public var sourceSizeBytes: Int64
    public var importedAt: Date
    public var importedBy: String
    public var iocs: [ImportedIOC]
    /// Lines or objects that were skipped, with the reason.
    public var problems: [ImportProblem]

    public init(id: String, name: String, format: IndicatorSourceFormat, sourceFile: String, sourceSHA256: String,
                sourceSizeBytes: Int64, importedAt: Date, importedBy: String, iocs: [ImportedIOC], problems: [ImportProblem]) {
        self.id = id
        self.name = name
        self.format = format
        self.sourceFile = sourceFile
        self.sourceSHA256 = sourceSHA256
        self.sourceSizeBytes = sourceSizeBytes
        self.importedAt = importedAt
        self.importedBy = importedBy
        self.iocs = iocs
        self.problems = problems
    }

    /// Number of indicators of each kind.
    public var countsByType: [IOCType: Int] {
        iocs.reduce(into: [:]) { $0[$1.type, default: 0] += 1 }
    }
}

/// A case's record of an imported pack: where it is and whether it is used.
///
/// JSON shape (in `case.json` → `indicatorPacks`): `{"id", "name", "file", "format",
/// "sourceSHA256", "importedAt", "importedBy", "indicatorCount", "enabled"}`.
public struct IndicatorPackRecord: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    public var name: String
    /// Path of the stored pack relative to the case folder, e.g. `indicators/mstic.json`.
    public var file: String
    public var format: IndicatorSourceFormat
    public var sourceSHA256: String
    public var importedAt: Date
    public var importedBy: String
    public var indicatorCount: Int
    public var enabled: Bool

    public init(id: String, name: String, file: String, format: IndicatorSourceFormat, sourceSHA256: String,
                importedAt: Date, importedBy: String, indicatorCount: Int, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.file = file
        self.format = format
        self.sourceSHA256 = sourceSHA256
        self.importedAt = importedAt
        self.importedBy = importedBy
        self.indicatorCount = indicatorCount
        self.enabled = enabled
    }
}
