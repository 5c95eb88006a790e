import Foundation

/// The column layout of one evidence header, shared by every record read under it: display
/// names, and a case-insensitive index that also carries logical aliases. Immutable.
public final class FieldSchema: @unchecked Sendable {
    /// Column names as the header spells them.
    public let names: [String]
    let index: [String: Int]

    /// - Parameters:
    ///   - names: the header's column names, in order (the first of duplicate names wins).
    ///   - aliases: logical names (`client-ip`) and the column they read (`c-ip`), when present.
    public init(names: [String], aliases: [(alias: String, column: String)] = []) {
        self.names = names
        var index: [String: Int] = [:]
        for (i, name) in names.enumerated() where index[name.lowercased()] == nil { index[name.lowercased()] = i }
        for (alias, column) in aliases {
            if let i = index[column.lowercased()], index[alias] == nil { index[alias] = i }
        }
        self.index = index
    }
}

/// One parsed evidence line (or inventory row), as the indicator engine sees it.
///
/// Columns come from the header's ``FieldSchema`` and are looked up case-insensitively
/// (`anchormailbox`, `cs-uri-stem`, `hash`). Parsers also define logical aliases shared across
/// formats so one indicator can cover several: `client-ip` (`c-ip`, `ClientIpAddress`),
/// `user-agent` (`cs(User-Agent)`, `UserAgent`), `url-stem` (`cs-uri-stem`, `UrlStem`), `status`
/// (`sc-status`, `HttpStatus`), `method` (`cs-method`, `Method`). An alias reports the header's
/// own spelling as the hit's field. Derived fields (`cs-uri`, `FileName`, `S:CMD`,
/// `DownloadPath`) are set with ``set(_:_:)``. `raw-line` reads the whole line.
public struct LogRecord: Sendable {
    /// 1-based line number in the evidence file.
    public var line: Int
    /// Event time (UTC) when the line carries one.
    public var time: Date?
    /// The whole line as text (invalid bytes replaced by U+FFFD).
    public var raw: String
    let schema: FieldSchema?
    let columns: [String]
    private var extras: [String: String] = [:]
    private var extraNames: [String: String] = [:]

    public init(line: Int, raw: String, time: Date? = nil, schema: FieldSchema? = nil, columns: [String] = []) {
        self.line = line
        self.raw = raw
        self.time = time
        self.schema = schema
        self.columns = columns
    }

    /// Sets a derived field; `name` is kept as the display spelling.
    public mutating func set(_ name: String, _ value: String) {
        let key = name.lowercased()
        extras[key] = value
        extraNames[key] = name
    }

    /// Sets a derived field under a logical name (`process-image`) that hits report with the
    /// spelling of the field it came from (`Image`).
    public mutating func set(_ name: String, _ value: String, displayedAs display: String) {
        let key = name.lowercased()
        extras[key] = value
        extraNames[key] = display
    }

    /// The value of a field or alias (case-insensitive name), or nil when absent.
    public func value(_ name: String) -> String? {
        value(lowercased: name.lowercased())
    }

    /// The value for an already lowercased name.
    func value(lowercased key: String) -> String? {
        if let schema, let i = schema.index[key] { return i < columns.count ? columns[i] : nil }
        if key == "raw-line" { return raw }
        return extras[key]
    }

    /// How the field is spelled in the evidence header.
    public func displayName(_ name: String) -> String {
        let key = name.lowercased()
        if let schema, let i = schema.index[key] { return schema.names[i] }
        return extraNames[key] ?? name
    }

    /// This record as read from a line that may have been cut off (the unterminated last line of
    /// a file, still being written or truncated): when it has fewer values than its header, the
    /// last value may be cut too (`1.2.` of `1.2.3.4`), so it reads as absent, and so do the
    /// fields derived from the values. The values before the cut are in place, so the result is
    /// not ``columnsMismatched``.
    public func droppingPossiblyCutValue() -> LogRecord {
        guard let schema, !columns.isEmpty, columns.count < schema.names.count else { return self }
        return LogRecord(line: line, raw: raw, time: time, schema: schema, columns: Array(columns.dropLast()))
    }

    /// Set by the parser when the line has a different number of values than its header names:
    /// a value may then sit under another column's name (an unquoted comma, a stray space).
    public var columnsMismatched = false

    /// The client address when the format has one, and nil when ``columnsMismatched`` (the
    /// value under the client column may be another field's; chains must not list it as a client).
    public var clientIP: String? { columnsMismatched ? nil : value(lowercased: "client-ip") }
}
