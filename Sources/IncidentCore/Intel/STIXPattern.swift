import Foundation

/// The part of the STIX 2.1 patterning language that atomic indicators use
/// (https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html#_e8slinrhxcc9):
/// observation expressions `[ … ]` joined by `OR`, each a comparison `object:path = 'value'` or
/// several joined by `OR`. `AND` is understood only for a file's folder and name together
/// (`file:parent_directory_ref.path = … AND file:name = …`), which gives a full path; other
/// operators, `AND` combinations and qualifiers (`WITHIN`, `REPEATS`, `START`) are reported as
/// not importable rather than guessed at.
public enum STIXPattern {
    enum Token: Hashable {
        case open, close, and, or, equals, other(String), path(String), string(String)
    }

    /// Splits a pattern into tokens; nil when a string is not closed.
    static func tokens(_ pattern: String) -> [Token]? {
        var out: [Token] = []
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c == "[" { out.append(.open); i += 1; continue }
            if c == "]" { out.append(.close); i += 1; continue }
            if c == "=" { out.append(.equals); i += 1; continue }
            if c == "'" {
                var s = ""
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count { s.append(chars[i + 1]); i += 2; continue }
                    if chars[i] == "'" { closed = true; i += 1; break }
                    s.append(chars[i])
                    i += 1
                }
                guard closed else { return nil }
                out.append(.string(s))
                continue
            }
            // A word: an object path (may contain quoted parts like hashes.'SHA-256') or a keyword.
            var word = ""
            while i < chars.count, !chars[i].isWhitespace, chars[i] != "[", chars[i] != "]", chars[i] != "=" {
                if chars[i] == "'" {
                    // Quoted path component.
                    word.append("'")
                    i += 1
                    while i < chars.count, chars[i] != "'" { word.append(chars[i]); i += 1 }
                    if i < chars.count { word.append("'"); i += 1 }
                    continue
                }
                word.append(chars[i])
                i += 1
            }
            switch word.uppercased() {
            case "AND": out.append(.and)
            case "OR": out.append(.or)
            case "": i += 1
            default: out.append(word.contains(":") ? .path(word) : .other(word))
            }
        }
        return out
    }

    /// The `(object path, value)` comparisons of a pattern, or the reason it cannot be imported.
    public static func comparisons(_ pattern: String) -> Result<[(String, String)], PatternError> {
        guard let tokens = tokens(pattern) else { return .failure(PatternError("unterminated string in pattern")) }
        var out: [(String, String)] = []
        var i = 0
        func fail(_ m: String) -> Result<[(String, String)], PatternError> { .failure(PatternError(m)) }
        while i < tokens.count {
            guard tokens[i] == .open else { return fail("expected [ in pattern") }
            i += 1
            var group: [(String, String)] = []
            var joiners: Set<Token> = []
            while i < tokens.count, tokens[i] != .close {
                guard case let .path(path) = tokens[i] else { return fail("expected an object path in pattern") }
                guard i + 2 < tokens.count, tokens[i + 1] == .equals, case let .string(value) = tokens[i + 2] else {
                    return fail("only `=` comparisons with a quoted value are imported")
                }
                group.append((path, value))
                i += 3
                if i < tokens.count, tokens[i] == .and || tokens[i] == .or { joiners.insert(tokens[i]); i += 1 }
            }
            guard i < tokens.count else { return fail("missing ] in pattern") }
            i += 1
            if joiners.contains(.and) {
                // Only a folder plus a name, which together are one path.
                let dir = group.first { $0.0.lowercased() == "file:parent_directory_ref.path" }
                let name = group.first { $0.0.lowercased() == "file:name" }
                guard group.count == 2, joiners == [.and], let dir, let name else {
                    return fail("AND combinations other than a file's folder and name are not imported")
                }
                let sep = dir.1.contains("/") && !dir.1.contains("\\") ? "/" : "\\"
                let folder = dir.1.hasSuffix(sep) ? String(dir.1.dropLast()) : dir.1
                out.append(("x-incident:file-path", folder + sep + name.1))
            } else {
                out += group
            }
            if i < tokens.count {
                if tokens[i] == .or { i += 1; continue }
                if case let .other(word) = tokens[i] { return fail("qualifier or operator \(word) is not imported") }
                if tokens[i] == .and { return fail("AND between observations is not imported") }
            }
        }
        return out.isEmpty ? fail("empty pattern") : .success(out)
    }

    /// A reason a pattern is not imported.
    public struct PatternError: Error, Equatable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// The kind of indicator an object path gives, or nil when it is not one we match.
    public static func iocType(path: String, value: String) -> IOCType? {
        let p = path.lowercased().replacingOccurrences(of: "'", with: "")
        switch p {
        case "file:hashes.sha-256", "file:hashes.sha256": return .sha256
        case "file:hashes.sha-1", "file:hashes.sha1": return .sha1
        case "file:hashes.md5": return .md5
        case "file:name": return value.contains("\\") || value.contains("/") ? .filePath : .fileName
        case "x-incident:file-path": return .filePath
        case "ipv4-addr:value": return .ipv4
        case "ipv6-addr:value": return .ipv6
        case "domain-name:value": return .domain
        case "url:value": return .url
        case "network-traffic:extensions.http-request-ext.request_header.user-agent": return .userAgent
        default: return nil
        }
    }

    /// A value quoted for a pattern (`\` and `'` escaped).
    static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// The standard pattern for an indicator, or nil for kinds STIX has no object for
    /// (path regexes, log-line strings and regexes, YARA rules; those are exported with
    /// `pattern_type` `pcre` or `yara`, see ``IndicatorExporter``).
    public static func pattern(for ioc: ImportedIOC) -> String? {
        switch ioc.type {
        case .sha256: "[file:hashes.'SHA-256' = \(quote(ioc.value))]"
        case .sha1: "[file:hashes.'SHA-1' = \(quote(ioc.value))]"
        case .md5: "[file:hashes.MD5 = \(quote(ioc.value))]"
        case .fileName: "[file:name = \(quote(ioc.value))]"
        case .filePath:
            {
                let v = ioc.value
                let sep: Character = v.contains("\\") ? "\\" : "/"
                guard let cut = v.lastIndex(of: sep) else { return "[file:name = \(quote(v))]" }
                let dir = String(v[..<cut]), name = String(v[v.index(after: cut)...])
                return "[file:parent_directory_ref.path = \(quote(dir)) AND file:name = \(quote(name))]"
            }()
        case .ipv4: "[ipv4-addr:value = \(quote(ioc.value))]"
        case .ipv6: "[ipv6-addr:value = \(quote(ioc.value))]"
        case .domain: "[domain-name:value = \(quote(ioc.value))]"
        case .url: "[url:value = \(quote(ioc.value))]"
        case .userAgent: "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = \(quote(ioc.value))]"
        case .filePathRegex, .logString, .logRegex, .yaraRule: nil
        }
    }
}
