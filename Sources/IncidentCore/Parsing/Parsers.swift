import Foundation

/// A format's line parser. Parsers are value types holding the header state they have seen, so
/// a copy can try the provisional last line of a growing file without disturbing the original.
public protocol EvidenceLineParser: Sendable {
    /// The format this parser reads.
    var format: EvidenceFormat { get }
    /// Reads one line; returns a record for data lines and nil for headers, directives, comments
    /// and blank lines.
    mutating func parse(_ text: String, line: Int) -> LogRecord?
    /// Problems worth telling the responder about (counts, not one per line).
    var warnings: [String] { get }
}

/// Exchange HttpProxy CSV logs. The header comes from the first line that names both `DateTime`
/// and `AnchorMailbox` (the bare header Exchange writes first) or from `#Fields:`; columns are
/// bound by name, case-insensitively; `#` directive lines are skipped.
/// Format: `../shared/knowledge/proxylogon.md` §1.0.1 and https://learn.microsoft.com/exchange/mail-flow/transport-logs
public struct HttpProxyParser: EvidenceLineParser {
    public var format: EvidenceFormat { .httpProxy }
    var header: [String]?
    var headerKey: String?
    var mismatched = 0
    var rowsBeforeHeader = 0

    public init() {}

    public var warnings: [String] {
        var w: [String] = []
        if mismatched > 0 { w.append("\(mismatched) row(s) with a different number of values than the header") }
        if rowsBeforeHeader > 0 { w.append("\(rowsBeforeHeader) row(s) before any header were not checked") }
        return w
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") {
            if let names = directiveFields(text) { setHeader(names) }
            return nil
        }
        if text.isEmpty { return nil }
        let values = CSVLine.fields(text)
        let lowered = values.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let header {
            // The bare header may repeat; any other row is data, whatever its values say
            // (request fields are attacker-controlled and must never rename the columns).
            if lowered == header.map({ $0.lowercased() }) { return nil }
        } else {
            if lowered.contains("datetime") && lowered.contains("anchormailbox") {
                setHeader(values)
            } else {
                rowsBeforeHeader += 1
            }
            return nil
        }
        guard let header else { return nil }
        if values.count != header.count { mismatched += 1 }
        var r = LogRecord(line: line, raw: text)
        bind(header, values, into: &r)
        r.time = r.value("DateTime").flatMap(Timestamps.parse)
        r.alias("client-ip", to: "ClientIpAddress")
        r.alias("user-agent", to: "UserAgent")
        r.alias("url-stem", to: "UrlStem")
        r.alias("status", to: "HttpStatus")
        r.alias("method", to: "Method")
        return r
    }

    mutating func setHeader(_ names: [String]) {
        header = names.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// Exchange ECP server logs: `#Fields: TimeStamp,ServerName,EventId,EventData`, CSV rows whose
/// `EventData` holds `;`-separated `S:KEY=value` pairs (`S:CMD`, `S:URL`, …), each also exposed
/// as a field named `S:KEY`.
public struct ECPServerParser: EvidenceLineParser {
    public var format: EvidenceFormat { .ecpServer }
    var header = ["TimeStamp", "ServerName", "EventId", "EventData"]
    public var warnings: [String] { [] }

    public init() {}

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") {
            if let names = directiveFields(text) { header = names }
            return nil
        }
        if text.isEmpty { return nil }
        let values = CSVLine.fields(text)
        var r = LogRecord(line: line, raw: text)
        bind(header, values, into: &r)
        r.time = r.value("TimeStamp").flatMap(Timestamps.parse)
        if let data = r.value("EventData") {
            for (key, value) in Self.eventDataPairs(data) where r.value(key) == nil { r.set(key, value) }
        }
        return r
    }

    /// Splits `S:A=1;S:B=x;y;S:C=2` into `[("S:A","1"), ("S:B","x;y"), ("S:C","2")]`: a `;` only
    /// separates when the next pair starts with `S:KEY=` (commands carry `;` in script text).
    /// Exchange wraps a pair whose value holds quotes in single quotes (`'S:CMD=…'`); those outer
    /// quotes are removed, doubled inner ones are kept as written.
    static func eventDataPairs(_ s: String) -> [(String, String)] {
        let chars = Array(s)
        func pairStart(_ i: Int) -> Bool {
            var j = i
            if j < chars.count, chars[j] == "'" { j += 1 }
            guard j + 2 < chars.count, chars[j] == "S", chars[j + 1] == ":" else { return false }
            var k = j + 2
            while k < chars.count, chars[k].isLetter || chars[k].isNumber { k += 1 }
            return k > j + 2 && k < chars.count && chars[k] == "="
        }
        var starts: [Int] = []
        if pairStart(0) { starts.append(0) }
        for i in chars.indices where chars[i] == ";" && pairStart(i + 1) { starts.append(i + 1) }
        var pairs: [(String, String)] = []
        for (n, start) in starts.enumerated() {
            let end = n + 1 < starts.count ? starts[n + 1] - 1 : chars.count
            var piece = String(chars[start..<end])
            if piece.hasPrefix("'") {
                piece.removeFirst()
                if piece.hasSuffix("'") { piece.removeLast() }
            }
            guard let eq = piece.firstIndex(of: "=") else { continue }
            pairs.append((String(piece[..<eq]), String(piece[piece.index(after: eq)...])))
        }
        return pairs
    }
}

/// Exchange OAB generator logs. Every line is a record; lines carrying
/// `Download failed and temporary file <path> needs to be removed` get the captured path as the
/// field `DownloadPath` (with its quotes, as Test-ProxyLogon captures it).
/// Source: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1
public struct OABGeneratorParser: EvidenceLineParser {
    public var format: EvidenceFormat { .oabGenerator }
    public var warnings: [String] { [] }
    public init() {}

    static let phrase = "Download failed and temporary file "
    static let tail = " needs to be removed"

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") || text.isEmpty { return nil }
        var r = LogRecord(line: line, raw: text)
        r.set("Message", text)
        if let start = text.range(of: Self.phrase, options: .caseInsensitive) {
            let after = text[start.upperBound...]
            if let end = after.range(of: Self.tail, options: .caseInsensitive) {
                r.set("DownloadPath", String(after[..<end.lowerBound]))
            }
        }
        // Exchange logs start rows with an ISO timestamp, either bare or as the first CSV field.
        let first = text.split(separator: ",", maxSplits: 1).first.map(String.init) ?? text
        r.time = Timestamps.parse(first.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")))
        return r
    }
}

/// IIS W3C extended logs. Fields are whatever the latest `#Fields:` says; a file without any
/// `#Fields:` is read with IIS's default layout when its lines have that layout's 15 fields.
/// Adds `cs-uri` (stem plus `?query`) and the aliases of ``LogRecord``.
/// Format: https://learn.microsoft.com/windows/win32/http/w3c-logging
public struct W3CParser: EvidenceLineParser {
    public var format: EvidenceFormat { .iisW3C }
    /// IIS's default field list (IIS 8.5 and later).
    public static let defaultFields = ["date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port",
                                       "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status",
                                       "sc-substatus", "sc-win32-status", "time-taken"]
    var fields: [String]?
    var assumedDefault = 0
    var unreadable = 0
    var mismatched = 0

    public init() {}

    public var warnings: [String] {
        var w: [String] = []
        if assumedDefault > 0 { w.append("no #Fields header: \(assumedDefault) line(s) read with the IIS default field layout") }
        if unreadable > 0 { w.append("\(unreadable) line(s) not read: no #Fields header and not the IIS default layout") }
        if mismatched > 0 { w.append("\(mismatched) line(s) whose field count differs from #Fields") }
        return w
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") {
            if text.lowercased().hasPrefix("#fields:") {
                fields = text.dropFirst(8).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            }
            return nil
        }
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if tokens.isEmpty { return nil }
        var layout: [String]
        if let fields {
            layout = fields
            if tokens.count != fields.count {
                if tokens.count == Self.defaultFields.count && Timestamps.parse(tokens[0] + " " + tokens[1]) != nil {
                    layout = Self.defaultFields
                }
                mismatched += 1
            }
        } else if tokens.count == Self.defaultFields.count, tokens.count > 1, Timestamps.parse(tokens[0] + " " + tokens[1]) != nil {
            layout = Self.defaultFields
            assumedDefault += 1
        } else {
            unreadable += 1
            return nil
        }
        var r = LogRecord(line: line, raw: text)
        bind(layout, tokens, into: &r)
        if let d = r.value("date"), let t = r.value("time") { r.time = Timestamps.parse(d + " " + t) }
        if let stem = r.value("cs-uri-stem") {
            let q = r.value("cs-uri-query") ?? "-"
            r.set("cs-uri", q == "-" ? stem : stem + "?" + q)
        }
        r.alias("client-ip", to: "c-ip")
        r.alias("user-agent", to: "cs(User-Agent)")
        r.alias("url-stem", to: "cs-uri-stem")
        r.alias("status", to: "sc-status")
        r.alias("method", to: "cs-method")
        r.alias("query", to: "cs-uri-query")
        return r
    }
}

/// File inventories: `Get-ChildItem -Recurse | Get-FileHash | Export-Csv` (columns `Algorithm`,
/// `Hash`, `Path`, with or without the `#TYPE` first line) and any CSV with `Hash` and `Path`
/// columns. Adds `FileName` (the last path component).
public struct FileInventoryParser: EvidenceLineParser {
    public var format: EvidenceFormat { .fileInventory }
    var header: [String]?
    var nonSHA256 = 0
    public var warnings: [String] {
        nonSHA256 > 0 ? ["\(nonSHA256) row(s) hashed with another algorithm than SHA256 (hash indicators need SHA256)"] : []
    }

    public init() {}

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") || text.isEmpty { return nil }
        let values = CSVLine.fields(text)
        if header == nil {
            let lowered = values.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if lowered.contains("hash") && lowered.contains("path") {
                header = values.map { $0.trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
        guard let header else { return nil }
        var r = LogRecord(line: line, raw: text)
        bind(header, values, into: &r)
        if let algorithm = r.value("Algorithm"), !algorithm.isEmpty, algorithm.uppercased() != "SHA256" { nonSHA256 += 1 }
        if let path = r.value("Path") {
            let name = path.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? path
            r.set("FileName", name)
        }
        return r
    }
}

/// Binds values to header names; the first of duplicate names wins, extra values are ignored.
func bind(_ header: [String], _ values: [String], into r: inout LogRecord) {
    for (i, name) in header.enumerated() where i < values.count {
        if r.value(name) == nil { r.set(name, values[i]) }
    }
}

/// The names of a `#Fields:` directive (comma-separated for Exchange logs), or nil for other lines.
func directiveFields(_ text: String) -> [String]? {
    guard text.lowercased().hasPrefix("#fields:") else { return nil }
    return text.dropFirst(8).split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
}
