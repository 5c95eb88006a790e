import Foundation

/// Output files of Microsoft's Test-ProxyLogon.ps1 (`<Computer>-other.csv`, `-LogAgeDays.csv`,
/// `-Cve-2021-26857.csv`, `-Cve-2021-27065.log`, `-Cve-2021-26858.log`,
/// `-Cve-2021-26858-DownloadPaths.log`). The `-Cve-2021-26855.csv` and `-ResetVDir.csv` files
/// carry HttpProxy columns and are read as HttpProxy logs, so the console's own matcher judges them.
///
/// Kinds (the field `List` of every record): `other` (columns `ComputerName,Type,Path,Name,LastWrite`;
/// `LastWrite` is kept as the culture-formatted text it is, never re-parsed), `log-age` (columns
/// `OabGen,Ecp,AutoDProxy,…`, decimals with `.` or `,`, empty cells allowed; summarised in a
/// warning), `cve-2021-26857` (`TimeCreated,MachineName,Message`; continuation lines of a quoted
/// multi-line message are not records), `ecp-logs` / `oab-logs` (plain lists of log paths) and
/// `download-paths` (plain list of quoted paths). The `#TYPE` line and quoting of Windows
/// PowerShell 5.1 `Export-Csv` are accepted, as is their absence (PowerShell 6+).
/// Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1
public struct TestProxyLogonParser: EvidenceLineParser {
    public var format: EvidenceFormat { .testProxyLogon }
    /// The kind of output file, once known from its header or first line.
    public private(set) var kind: String?
    var schema: FieldSchema?
    var logAge: [(String, Double?)] = []

    public init() {}

    public var warnings: [String] {
        guard !logAge.isEmpty else { return [] }
        let known = logAge.compactMap { name, v in v.map { "\(name) \(Self.days($0))" } }
        let empty = logAge.filter { $0.1 == nil }.map(\.0)
        var w = "Test-ProxyLogon log age in days: " + (known.isEmpty ? "none reported" : known.joined(separator: ", "))
        if !empty.isEmpty { w += "; empty: " + empty.joined(separator: ", ") + " (folder empty, or not reported on this host)" }
        return [w]
    }

    static func days(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Recognises a Test-ProxyLogon output kind from a (lowercased, trimmed) first line.
    static func kind(ofHeader fields: [String], line: String) -> String? {
        if fields.count == 5, fields == ["computername", "type", "path", "name", "lastwrite"] { return "other" }
        if fields.contains("oabgen"), fields.contains("ecp"), fields.contains(where: { $0.hasSuffix("proxy") }) { return "log-age" }
        if fields == ["timecreated", "machinename", "message"] { return "cve-2021-26857" }
        let path = line.hasPrefix("'") ? String(line.dropFirst()) : line
        let isDrivePath = path.count > 3 && path.dropFirst().hasPrefix(":\\") && path.first?.isLetter == true
        guard isDrivePath else { return nil }
        if line.hasPrefix("'") { return "download-paths" }
        if line.contains("\\logging\\ecp\\server\\") { return "ecp-logs" }
        if line.contains("\\logging\\oabgeneratorlog\\") { return "oab-logs" }
        return nil
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        if kind == nil {
            let fields = CSVLine.fields(trimmed.lowercased()).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let k = Self.kind(ofHeader: fields, line: trimmed.lowercased()) else { return nil }
            kind = k
            if k == "other" || k == "log-age" || k == "cve-2021-26857" {
                schema = FieldSchema(names: CSVLine.fields(trimmed).map { $0.trimmingCharacters(in: .whitespaces) })
                return nil
            }
        }
        switch kind {
        case "ecp-logs"?, "oab-logs"?, "download-paths"?:
            var r = LogRecord(line: line, raw: text)
            r.set("List", kind ?? "")
            r.set("Path", trimmed)
            return r
        case "cve-2021-26857"?:
            let values = CSVLine.fields(text)
            // A record starts with a quoted date; lines of a multi-line Message do not.
            guard values.count >= 3, values[0].first?.isNumber == true else { return nil }
            var r = LogRecord(line: line, raw: text, schema: schema, columns: values)
            r.set("List", "cve-2021-26857")
            return r
        case "log-age"?:
            let values = CSVLine.fields(text)
            var r = LogRecord(line: line, raw: text, schema: schema, columns: values)
            r.set("List", "log-age")
            logAge = (schema?.names ?? []).enumerated().map { i, name in
                let v = i < values.count ? values[i].trimmingCharacters(in: .whitespaces) : ""
                return (name, Double(v.replacingOccurrences(of: ",", with: ".")))
            }
            return r
        default:
            var r = LogRecord(line: line, raw: text, schema: schema, columns: CSVLine.fields(text))
            r.set("List", kind ?? "")
            return r
        }
    }
}

/// Microsoft Safety Scanner logs (`%SystemRoot%\debug\msert.log`, and `msert.old.log` where
/// EOMT archives the previous run). Only result lines become records: `Threat Detected: <name>…`
/// (fields `Threat`, `Action`), the `file://` / `containerfile://` resource lines under it (field
/// `Resource`, and `Threat` of the detection it belongs to as `DetectedThreat`) and
/// `No infection found` (field `Result`). Banners, engine and signature versions, the results
/// summary (which repeats the detections), report submissions and return codes are boilerplate.
/// Times in the log are the server's local time and are not converted.
/// Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/EOMT.ps1 (looks for `Threat Detected`)
public struct MSERTLogParser: EvidenceLineParser {
    public var format: EvidenceFormat { .msertLog }
    public var warnings: [String] { [] }
    var lastThreat: String?
    var inSummary = false

    public init() {}

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let lower = t.lowercased()
        if lower.hasPrefix("results summary") { inSummary = true; return nil }
        if lower.hasPrefix("microsoft safety scanner v") || lower.hasPrefix("started on") { inSummary = false; lastThreat = nil; return nil }
        if inSummary { return nil }
        if lower.hasPrefix("threat detected:") {
            let rest = t.dropFirst("threat detected:".count).trimmingCharacters(in: .whitespaces)
            var threat = rest, action = ""
            if let comma = rest.firstIndex(of: ",") {
                threat = String(rest[..<comma]).trimmingCharacters(in: .whitespaces)
                action = String(rest[rest.index(after: comma)...]).trimmingCharacters(in: CharacterSet(charactersIn: " ."))
            } else if let and = rest.range(of: " and ", options: .caseInsensitive) {
                threat = String(rest[..<and.lowerBound])
                action = String(rest[and.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: " .!"))
            }
            lastThreat = threat
            var r = LogRecord(line: line, raw: text)
            r.set("Threat", threat)
            r.set("Action", action)
            return r
        }
        if lower.hasPrefix("file://") || lower.hasPrefix("containerfile://") || lower.hasPrefix("regkey://") || lower.hasPrefix("process://") {
            var r = LogRecord(line: line, raw: text)
            r.set("Resource", t)
            r.set("DetectedThreat", lastThreat ?? "")
            return r
        }
        if lower.hasPrefix("no infection found") || lower.hasPrefix("no threats") {
            var r = LogRecord(line: line, raw: text)
            r.set("Result", t)
            return r
        }
        return nil
    }

    /// Whether a (lowercased, trimmed) line is MSERT's banner.
    static func isBanner(_ lower: String) -> Bool {
        lower.hasPrefix("microsoft safety scanner v") || lower.hasPrefix("microsoft safety scanner finished on")
    }
}

/// EOMT logs (`%TEMP%\msert\EOMT.log`): lines `yyyy-MM-dd HH:mm:ss <Level>: <Message>` with fields
/// `Level` and `Message`; other lines (banners, blank lines, continuation text) are not records.
/// Times are the server's local time and are not converted.
/// Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/EOMT.ps1
public struct EOMTLogParser: EvidenceLineParser {
    public var format: EvidenceFormat { .eomtLog }
    public var warnings: [String] { [] }
    public init() {}

    /// Splits a log line into level and message, or nil when it is not one.
    static func split(_ t: String) -> (level: String, message: String)? {
        let b = Array(t.utf8)
        guard b.count > 21, Timestamps.parse(String(decoding: b[0..<19], as: UTF8.self)) != nil, b[19] == 0x20 else { return nil }
        let rest = String(decoding: b[20...], as: UTF8.self)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let level = String(rest[..<colon])
        guard !level.isEmpty, level.count <= 12, level.allSatisfy({ $0.isLetter }) else { return nil }
        return (level, String(rest[rest.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        guard let (level, message) = Self.split(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        var r = LogRecord(line: line, raw: text)
        r.set("Level", level)
        r.set("Message", message)
        return r
    }
}

/// Content tests for the tool-output and JSONL formats, used by ``FormatDetector``.
enum ToolFormats {
    /// The format a line shows, or nil. `allLines` are the first lines of the file (EOMT lines
    /// are only taken as EOMT when the file mentions EOMT or MSERT somewhere in them).
    static func detect(line: String, lower: String, allLines: [String]) -> EvidenceFormat? {
        if MSERTLogParser.isBanner(lower) { return .msertLog }
        if lower.hasPrefix("{"), lower.contains("\"fullpath\"") || lower.contains("\"ospath\"") { return .fileInventory }
        if EOMTLogParser.split(line) != nil,
           allLines.prefix(FormatDetector.linesExamined).contains(where: { $0.lowercased().contains("eomt") || $0.lowercased().contains("msert") }) {
            return .eomtLog
        }
        return nil
    }
}

/// Microsoft's known-good hash baselines as published with CSS-Exchange (for example
/// `baseline_15.0.1497.2.csv`): header-less rows `HASH,build,relative\path` (UTF-8 with BOM; 2013
/// paths without a leading backslash, later ones with). Each row is a record with `Hash`
/// (uppercase hex as written), `Build` and `Path`; the scanner uses them as an allow-list for the
/// server's file inventories (see ``EvidenceScanner``).
/// Source: https://github.com/microsoft/CSS-Exchange (baseline files of CompareExchangeHashes.ps1)
public struct HashBaselineParser: EvidenceLineParser {
    public var format: EvidenceFormat { .hashBaseline }
    static let schema = FieldSchema(names: ["Hash", "Build", "Path"])
    var rejected = 0
    public var warnings: [String] { rejected > 0 ? ["\(rejected) row(s) are not HASH,build,path and were ignored"] : [] }
    public init() {}

    /// `(hash, build, path)` when the (trimmed) CSV fields are a baseline row.
    static func row(_ fields: [String]) -> (String, String, String)? {
        guard fields.count == 3, SHA256Hex.isHex64(fields[0]),
              !fields[1].isEmpty, fields[1].allSatisfy({ $0.isNumber || $0 == "." }), fields[1].contains(".") else { return nil }
        return (fields[0], fields[1], fields[2])
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.isEmpty || text.hasPrefix("#") { return nil }
        let fields = CSVLine.fields(text).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let (h, b, p) = Self.row(fields) else { rejected += 1; return nil }
        return LogRecord(line: line, raw: text, schema: Self.schema, columns: [h, b, p])
    }
}
