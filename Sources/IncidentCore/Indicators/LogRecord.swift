import Foundation

/// One parsed evidence line (or inventory row), as the indicator engine sees it.
///
/// Fields are keyed by their lowercased header name (`anchormailbox`, `cs-uri-stem`, `hash`).
/// Parsers also set logical aliases shared across formats so one indicator can cover several:
/// `client-ip` (`c-ip`, `ClientIpAddress`), `user-agent` (`cs(User-Agent)`, `UserAgent`),
/// `url-stem` (`cs-uri-stem`, `UrlStem`), `status` (`sc-status`, `HttpStatus`), `method`
/// (`cs-method`, `Method`). An alias reports the header's own spelling as the hit's field.
public struct LogRecord: Sendable {
    /// 1-based line number in the evidence file.
    public var line: Int
    /// Event time (UTC) when the line carries one.
    public var time: Date?
    /// The whole line as text (invalid bytes replaced by U+FFFD).
    public var raw: String
    private(set) var values: [String: String] = [:]
    private(set) var names: [String: String] = [:]

    public init(line: Int, raw: String, time: Date? = nil) {
        self.line = line
        self.raw = raw
        self.time = time
    }

    /// Sets a field; `name` is kept as the display spelling.
    public mutating func set(_ name: String, _ value: String) {
        let key = name.lowercased()
        values[key] = value
        names[key] = name
    }

    /// Makes `alias` read the same value as the existing field `field`, reporting `field`'s spelling.
    public mutating func alias(_ alias: String, to field: String) {
        let key = field.lowercased()
        guard let value = values[key] else { return }
        values[alias] = value
        names[alias] = names[key] ?? field
    }

    /// The value of a field or alias (case-insensitive name), or nil when absent.
    public func value(_ name: String) -> String? {
        values[name.lowercased()] ?? values[name]
    }

    /// How the field is spelled in the evidence header.
    public func displayName(_ name: String) -> String {
        names[name.lowercased()] ?? names[name] ?? name
    }

    /// The client address when the format has one.
    public var clientIP: String? { value("client-ip") }
}
