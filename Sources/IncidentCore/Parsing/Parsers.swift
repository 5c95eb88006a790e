import CLineSweep
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
    /// For a line of ASCII text that no indicator can match (see ``LiteralPrefilter``): what
    /// ``parse(_:line:)`` would record without building the record, when the line is a plain data
    /// line that changes no parser state; nil when the line must go through ``parse(_:line:)``
    /// (directives, headers, lines the parser counts as odd, any byte ≥ 0x80, CR or LF).
    /// - Parameter fileBuild: the CU-level build the file has shown so far (nil: none yet). Also
    ///   nil is returned for every line that might show a higher build (see
    ///   ``BuildEvidence/cuBuild(line:record:)``): a file's build is the highest any line shows,
    ///   so the scanner must parse such a line.
    func quickRecord(_ line: UnsafeBufferPointer<UInt8>, fileBuild: ExchangeBuild?) -> QuickRecord?
    /// What the vectorised quick path (`ic_sweep` in the `CLineSweep` target) needs to accept
    /// lines ``quickRecord(_:fileBuild:)`` would accept, without calling it line by line; nil when
    /// every line must go through ``quickRecord(_:fileBuild:)``. The sweep accepts a line only
    /// when this parser's quick record would accept it with the same time, and leaves every line
    /// it is not sure of to the parser.
    func sweepLayout(fileBuild: ExchangeBuild?) -> ic_sweep_layout?
}

/// What the scanner keeps of a data line it did not parse: its time (UTC), if it has one.
public struct QuickRecord: Sendable, Equatable {
    public var time: Date?
}

extension EvidenceLineParser {
    public func quickRecord(_ line: UnsafeBufferPointer<UInt8>, fileBuild: ExchangeBuild?) -> QuickRecord? { nil }
    public func sweepLayout(fileBuild: ExchangeBuild?) -> ic_sweep_layout? { nil }
}

extension ic_sweep_layout {
    /// A layout with no columns, the file's build and the line length limit filled in.
    init(kind: Int32, fields: Int, fileBuild: ExchangeBuild?) {
        self.init()
        self.kind = kind
        self.fields = Int32(clamping: fields)
        headLength = 0
        timeColumn = -1
        dateColumn = -1
        stemColumn = -1
        versionColumns = (-1, -1, -1)
        checkBuild = 0
        hasBLD = 0
        if let b = fileBuild {
            self.fileBuild = (Int64(b.major), Int64(b.minor), Int64(b.build))
        } else {
            self.fileBuild = (-1, -1, -1)
        }
        maxLineBytes = Int64(LineSplitter.maxLineBytes)
        firstLineUnjudged = 1
    }
}

/// Exchange HttpProxy CSV logs. The header comes from the first line that names both `DateTime`
/// and `AnchorMailbox` (the bare header Exchange writes first) or from `#Fields:`; columns are
/// bound by name, case-insensitively; `#` directive lines are skipped.
/// Format: `../shared/knowledge/proxylogon.md` §1.0.1 and https://learn.microsoft.com/exchange/mail-flow/transport-logs
public struct HttpProxyParser: EvidenceLineParser {
    public var format: EvidenceFormat { .httpProxy }
    var schema: FieldSchema?
    var headerLowered: [String] = []
    var mismatched = 0
    var rowsBeforeHeader = 0

    static let aliases: [(alias: String, column: String)] = [
        ("client-ip", "ClientIpAddress"), ("user-agent", "UserAgent"), ("url-stem", "UrlStem"),
        ("status", "HttpStatus"), ("method", "Method"),
    ]

    public init() {}

    public var warnings: [String] {
        var w: [String] = []
        if mismatched > 0 { w.append("\(mismatched) row(s) with a different number of values than the header") }
        if rowsBeforeHeader > 0 { w.append("\(rowsBeforeHeader) row(s) before any header were not checked") }
        if !duplicates.isEmpty { w.append("header names a column more than once (\(duplicates.joined(separator: ", "))): the first of each is read") }
        return w
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") {
            if let names = directiveFields(text) { setHeader(names) }
            return nil
        }
        if text.isEmpty { return nil }
        let values = CSVLine.fields(text)
        guard let schema else {
            let lowered = values.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if lowered.contains("datetime") && lowered.contains("anchormailbox") {
                setHeader(values)
            } else {
                rowsBeforeHeader += 1
            }
            return nil
        }
        // The bare header may repeat; any other row is data, whatever its values say (request
        // fields are attacker-controlled and must never rename the columns).
        // (Cheap length test first: data rows start with a timestamp, far longer than "DateTime".)
        if values.count == headerLowered.count, let first = values.first, let head = headerLowered.first,
           first.utf8.count <= head.utf8.count + 8, first.trimmingCharacters(in: .whitespaces).lowercased() == head,
           values.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == headerLowered {
            return nil
        }
        var r = LogRecord(line: line, raw: text, schema: schema, columns: values)
        if values.count != headerLowered.count {
            mismatched += 1
            r.columnsMismatched = true
        }
        r.time = r.value(lowercased: "datetime").flatMap(Timestamps.parse)
        return r
    }

    /// Column names the header repeats (case-insensitively), in header spelling.
    var duplicates: [String] = []

    public func quickRecord(_ b: UnsafeBufferPointer<UInt8>, fileBuild: ExchangeBuild?) -> QuickRecord? {
        guard schema != nil, !b.isEmpty, b[0] != 0x23, let head = headerLowered.first,
              let commas = ByteScan.count(b, separator: 0x2C, forbidden: (0x22, 0x0D)),
              commas + 1 == headerLowered.count else { return nil }
        // A repeated bare header is not data.
        let firstEnd = b.firstIndex(of: 0x2C) ?? b.count
        if firstEnd <= head.utf8.count + 8,
           String(decoding: UnsafeBufferPointer(rebasing: b[0..<firstEnd]), as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased() == head {
            return nil
        }
        // Rows with version columns show the build; so may a request path with "/1". Only a
        // build above the file's can change it.
        if hasVersionColumns || stemColumn >= 0 {
            let versions = versionColumns.0 >= 0 ? ByteScan.fields(b, versionColumns, separator: 0x2C) : nil
            if BuildEvidence.quickLineMayRaise(b, versions: versions, hasBLD: hasBLDColumn,
                                               stem: { ByteScan.field(b, column: stemColumn, separator: 0x2C) }, above: fileBuild) {
                return nil
            }
        }
        guard let time = ByteScan.field(b, column: timeColumn, separator: 0x2C) else { return QuickRecord(time: nil) }
        return QuickRecord(time: Timestamps.parse(bytes: UnsafeBufferPointer(rebasing: b[time])))
    }

    public func sweepLayout(fileBuild: ExchangeBuild?) -> ic_sweep_layout? {
        guard schema != nil, let head = headerLowered.first else { return nil }
        var layout = ic_sweep_layout(kind: Int32(IC_SWEEP_CSV), fields: headerLowered.count, fileBuild: fileBuild)
        layout.headLength = Int32(clamping: head.utf8.count)
        layout.timeColumn = Int32(clamping: timeColumn)
        layout.stemColumn = Int32(clamping: stemColumn)
        layout.versionColumns = (Int32(clamping: versionColumns.0), Int32(clamping: versionColumns.1), Int32(clamping: versionColumns.2))
        layout.checkBuild = hasVersionColumns || stemColumn >= 0 ? 1 : 0
        layout.hasBLD = hasBLDColumn ? 1 : 0
        return layout
    }

    mutating func setHeader(_ names: [String]) {
        let trimmed = names.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        for name in trimmed where !seen.insert(name.lowercased()).inserted && !duplicates.contains(name) { duplicates.append(name) }
        let schema = FieldSchema(names: trimmed, aliases: Self.aliases)
        self.schema = schema
        headerLowered = trimmed.map { $0.lowercased() }
        timeColumn = schema.index["datetime"] ?? -1
        stemColumn = schema.index["url-stem"] ?? -1
        hasVersionColumns = BuildEvidence.hasBuildColumns(schema)
        if let major = schema.index["majorversion"], let minor = schema.index["minorversion"], let build = schema.index["buildversion"] {
            versionColumns = (major, minor, build)
        } else {
            versionColumns = (-1, -1, -1)
        }
        hasBLDColumn = schema.index["s:bld"] != nil
    }

    /// The `DateTime` and `UrlStem` columns of the header (-1 when absent).
    var timeColumn = -1, stemColumn = -1
    /// The header has columns that show a build (see ``BuildEvidence/hasBuildColumns(_:)``).
    var hasVersionColumns = false
    /// The `MajorVersion`, `MinorVersion` and `BuildVersion` columns (-1 unless all three are there).
    var versionColumns = (-1, -1, -1)
    /// The header has an `S:BLD` column.
    var hasBLDColumn = false

    /// The columns of Test-ProxyLogon's `<server>-Cve-2021-26855.csv` (CSS-Exchange
    /// Security/src/Test-ProxyLogon.ps1, https://github.com/microsoft/CSS-Exchange), lowercased.
    static let testProxyLogonColumns: Set<String> = ["datetime", "requestid", "clientipaddress", "urlhost", "urlstem",
                                                     "routinghint", "useragent", "anchormailbox", "httpstatus"]

    /// True when the header is Test-ProxyLogon's export of suspicious rows rather than a raw
    /// HttpProxy log: its rows are re-checked here, but its time range covers nothing (it holds
    /// only what the script matched), so it gives no coverage.
    public var isFilteredExport: Bool { Set(headerLowered) == Self.testProxyLogonColumns }
}

/// Exchange ECP server logs: `#Fields: TimeStamp,ServerName,EventId,EventData`, CSV rows whose
/// `EventData` holds `;`-separated `S:KEY=value` pairs (`S:CMD`, `S:URL`, …), each also exposed
/// as a field named `S:KEY`.
public struct ECPServerParser: EvidenceLineParser {
    public var format: EvidenceFormat { .ecpServer }
    var schema = FieldSchema(names: ["TimeStamp", "ServerName", "EventId", "EventData"])
    public var warnings: [String] { [] }

    public init() {}

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") {
            if let names = directiveFields(text) { schema = FieldSchema(names: names) }
            return nil
        }
        if text.isEmpty { return nil }
        var r = LogRecord(line: line, raw: text, schema: schema, columns: CSVLine.fields(text))
        r.time = r.value(lowercased: "timestamp").flatMap(Timestamps.parse)
        if let data = r.value(lowercased: "eventdata") {
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
    var schema: FieldSchema?
    static let aliases: [(alias: String, column: String)] = [
        ("client-ip", "c-ip"), ("user-agent", "cs(User-Agent)"), ("url-stem", "cs-uri-stem"),
        ("status", "sc-status"), ("method", "cs-method"), ("query", "cs-uri-query"),
    ]
    static let defaultSchema = FieldSchema(names: defaultFields, aliases: aliases)
    /// HTTP methods that mark a space-separated line as a W3C request line.
    static let methods: Set<String> = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PROPFIND", "PATCH", "RPC_IN_DATA", "RPC_OUT_DATA"]
    var assumedDefault = 0
    /// The `date`, `time` and `cs-uri-stem` columns of the `#Fields` header (-1 when absent).
    var dateColumn = -1, timeColumn = -1, stemColumn = -1
    /// The `#Fields` header has columns that show a build (see ``BuildEvidence/hasBuildColumns(_:)``).
    var hasBuildColumns = false
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
                schema = FieldSchema(names: Self.tokens(text.dropFirst(8)), aliases: Self.aliases)
                dateColumn = schema?.index["date"] ?? -1
                timeColumn = schema?.index["time"] ?? -1
                // The column `url-stem` reads, as ``BuildEvidence/cuBuild(line:record:)`` does.
                stemColumn = schema?.index["url-stem"] ?? -1
                hasBuildColumns = schema.map(BuildEvidence.hasBuildColumns) ?? false
            }
            return nil
        }
        let tokens = Self.tokens(Substring(text))
        if tokens.isEmpty { return nil }
        var layout: FieldSchema
        var shifted = false
        if let schema {
            layout = schema
            if tokens.count != schema.names.count {
                if tokens.count == Self.defaultFields.count && Timestamps.parse(tokens[0] + " " + tokens[1]) != nil {
                    layout = Self.defaultSchema
                } else {
                    shifted = true
                }
                mismatched += 1
            }
        } else if tokens.count == Self.defaultFields.count, tokens.count > 1, Timestamps.parse(tokens[0] + " " + tokens[1]) != nil {
            layout = Self.defaultSchema
            assumedDefault += 1
        } else {
            unreadable += 1
            return nil
        }
        var r = LogRecord(line: line, raw: text, schema: layout, columns: tokens)
        r.columnsMismatched = shifted
        if let d = r.value(lowercased: "date"), let t = r.value(lowercased: "time") { r.time = Timestamps.parse(d + " " + t) }
        if let stem = r.value(lowercased: "cs-uri-stem") {
            let q = r.value(lowercased: "cs-uri-query") ?? "-"
            r.set("cs-uri", q == "-" ? stem : stem + "?" + q)
        }
        return r
    }
}

extension W3CParser {
    public func sweepLayout(fileBuild: ExchangeBuild?) -> ic_sweep_layout? {
        guard let schema, !schema.names.isEmpty, !hasBuildColumns else { return nil }
        var layout = ic_sweep_layout(kind: Int32(IC_SWEEP_W3C), fields: schema.names.count, fileBuild: fileBuild)
        layout.dateColumn = Int32(clamping: dateColumn)
        layout.timeColumn = Int32(clamping: timeColumn)
        layout.stemColumn = Int32(clamping: stemColumn)
        return layout
    }

    public func quickRecord(_ b: UnsafeBufferPointer<UInt8>, fileBuild: ExchangeBuild?) -> QuickRecord? {
        guard let schema, !schema.names.isEmpty, !b.isEmpty, b[0] != 0x23,
              ByteScan.tokens(b, forbidden: 0x0D) == schema.names.count else { return nil }
        // Columns that show a build (rare in IIS logs): always parsed.
        if hasBuildColumns { return nil }
        // One walk over the leading tokens finds the date, the time and the request path, which
        // may hold a version folder if it has "/1".
        var date = 0..<0, time = 0..<0, stem = 0..<0
        let wanted = max(dateColumn, timeColumn, stemColumn)
        var index = -1
        var i = 0
        let n = b.count
        while i < n, index < wanted {
            while i < n, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            guard i < n else { break }
            index += 1
            let from = i
            while i < n, b[i] != 0x20, b[i] != 0x09 { i += 1 }
            if index == dateColumn { date = from..<i }
            if index == timeColumn { time = from..<i }
            if index == stemColumn { stem = from..<i }
        }
        // Only a version folder above the file's build can change it.
        if stemColumn >= 0, BuildEvidence.quickLineMayRaise(b, versions: nil, hasBLD: false, stem: { stem }, above: fileBuild) { return nil }
        guard dateColumn >= 0, timeColumn >= 0 else { return QuickRecord(time: nil) }
        // As `parse` does: the date, a space and the time, of which the first 40 bytes are read.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            var n = 0
            for i in date where n < 40 { buffer[n] = b[i]; n += 1 }
            if n < 40 { buffer[n] = 0x20; n += 1 }
            for i in time where n < 40 { buffer[n] = b[i]; n += 1 }
            return QuickRecord(time: Timestamps.parse(bytes: UnsafeBufferPointer(rebasing: buffer[0..<n])))
        }
    }

    /// Splits on spaces and tabs, working on UTF-8 bytes (both separators are ASCII).
    static func tokens(_ text: Substring) -> [String] {
        var out: [String] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var i = start
        while i != utf8.endIndex {
            let b = utf8[i]
            if b == 0x20 || b == 0x09 {
                if start != i { out.append(String(decoding: utf8[start..<i], as: UTF8.self)) }
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if start != utf8.endIndex { out.append(String(decoding: utf8[start..<utf8.endIndex], as: UTF8.self)) }
        return out
    }
}

/// File inventories: `Get-ChildItem -Recurse | Get-FileHash | Export-Csv` (columns `Algorithm`,
/// `Hash`, `Path`, with or without the `#TYPE` first line), any CSV with `Path` and `Hash` or
/// `SHA256` columns, header-less `path,sha256` (or `sha256,path`) rows, and Velociraptor hunt
/// exports in JSONL (one object per line; path from `FullPath` or `OSPath`, hash from
/// `Hash.SHA256`, `SHA256` or `Hash`). Adds `FileName` (the last path component).
/// Velociraptor JSON: https://docs.velociraptor.app/docs/vql/ (hunt results export as JSONL)
public struct FileInventoryParser: EvidenceLineParser {
    public var format: EvidenceFormat { .fileInventory }
    var schema: FieldSchema?
    var nonSHA256 = 0
    public var warnings: [String] {
        var w: [String] = []
        if nonSHA256 > 0 { w.append("\(nonSHA256) row(s) hashed with another algorithm than SHA256 (hash indicators need SHA256)") }
        if badJSON > 0 { w.append("\(badJSON) JSON line(s) without a FullPath or OSPath, or not valid JSON, were not checked") }
        return w
    }

    var badJSON = 0

    public init() {}

    static let aliases: [(alias: String, column: String)] = [("hash", "SHA256"), ("path", "FullPath"), ("path", "OSPath")]
    static let plainSchema = FieldSchema(names: ["Path", "Hash"])
    static let jsonSchema = FieldSchema(names: ["Path", "Hash", "Algorithm"])

    /// For a header-less `path,sha256` or `sha256,path` row (trimmed fields): the index of the hash.
    static func headerlessRow(_ fields: [String]) -> Int? {
        guard fields.count == 2 else { return nil }
        for (h, p) in [(1, 0), (0, 1)] where SHA256Hex.isHex64(fields[h]) && (fields[p].contains("\\") || fields[p].contains("/")) { return h }
        return nil
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        if text.hasPrefix("#") || text.isEmpty { return nil }
        if text.hasPrefix("{") { return parseJSON(text, line: line) }
        var values = CSVLine.fields(text)
        if schema == nil || schema === Self.plainSchema, let h = Self.headerlessRow(values.map { $0.trimmingCharacters(in: .whitespaces) }) {
            schema = Self.plainSchema
            values = h == 1 ? values : [values[1], values[0]]
        }
        guard let schema else {
            let lowered = values.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if lowered.contains("path") && (lowered.contains("hash") || lowered.contains("sha256")) {
                schema = FieldSchema(names: values.map { $0.trimmingCharacters(in: .whitespaces) }, aliases: Self.aliases)
            }
            return nil
        }
        return record(LogRecord(line: line, raw: text, schema: schema, columns: values))
    }

    /// One Velociraptor JSONL row.
    mutating func parseJSON(_ text: String, line: Int) -> LogRecord? {
        guard let data = text.data(using: .utf8),
              let object = (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any] else {
            badJSON += 1
            return nil
        }
        func get(_ dict: [String: Any], _ key: String) -> Any? {
            dict.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
        }
        var path = (get(object, "FullPath") as? String) ?? (get(object, "OSPath") as? String)
        if path == nil, let os = get(object, "OSPath") as? [String: Any] { path = get(os, "Path") as? String }
        var hash: String?
        if let h = get(object, "Hash") as? [String: Any] { hash = get(h, "SHA256") as? String } else { hash = get(object, "Hash") as? String }
        hash = hash ?? (get(object, "SHA256") as? String)
        guard let path else { badJSON += 1; return nil }
        return record(LogRecord(line: line, raw: text, schema: Self.jsonSchema, columns: [path, hash ?? "", hash == nil ? "" : "SHA256"]))
    }

    mutating func record(_ base: LogRecord) -> LogRecord? {
        var r = base
        if let algorithm = r.value(lowercased: "algorithm"), !algorithm.isEmpty, algorithm.uppercased() != "SHA256" { nonSHA256 += 1 }
        if let path = r.value(lowercased: "path") {
            let name = path.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? path
            r.set("FileName", name)
        }
        return r
    }
}

/// The names of a `#Fields:` directive (comma-separated for Exchange logs), or nil for other lines.
func directiveFields(_ text: String) -> [String]? {
    guard text.lowercased().hasPrefix("#fields:") else { return nil }
    return text.dropFirst(8).split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
}
