import Foundation

/// IIS `web.config` files (for the interim mitigation: `%SystemDrive%\inetpub\wwwroot\web.config`,
/// the configuration of `Default Web Site`), read for the URL Rewrite rules that EOMT.ps1 and
/// ExchangeMitigations.ps1 / BackendCookieMitigation.ps1 add against CVE-2021-26855:
///
/// - `X-AnonResource-Backend Abort - inbound`: match url `.*`, condition input `{HTTP_COOKIE}`
///   pattern `(.*)X-AnonResource-Backend(.*)`, action `AbortRequest`;
/// - `X-BEResource Abort - inbound`: condition input `{HTTP_COOKIE}` pattern
///   `(.*)X-BEResource=(.+)/(.+)~(.+)`, `stopProcessing`, action `AbortRequest`.
///
/// A rule counts by its content, not its name: an `{HTTP_COOKIE}` condition whose pattern names
/// one of the two cookies, and the action `AbortRequest`. The rule's regular-expression attribute
/// may be spelled `patternSyntax` or `patterSyntax`: the first ExchangeMitigations.ps1 /
/// BackendCookieMitigation.ps1 releases wrote the typo (pitfall 29, fixed in CSS-Exchange commit
/// 4b94757), and such rules are read the same.
///
/// Every line on which URL Rewrite rules end gives one record with the fields `Rule` (the rule
/// names, `; `-separated when several end on one line), `Cookie` (`X-AnonResource-Backend`,
/// `X-BEResource` or empty), `Pattern`, `SyntaxAttribute` (`patternSyntax`, `patterSyntax` or
/// empty) and `Mitigation` (`CVE-2021-26855` for the mitigation rules, else empty; when both kinds
/// end on one line, the record holds only the mitigation rules); indicator `WC-001` turns a
/// mitigation record into an `info` hit. Nothing else in the file is a record. The file's warnings say when neither rule is present, when only one
/// is, when a rule uses the typo, when a cookie rule does not abort, and when the file ends
/// inside a tag, a rule or before `</configuration>` (truncated). Tags are read across lines; a
/// tag longer than ``maxTagBytes`` is dropped with a warning.
///
/// Sources: https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/EOMT.ps1,
/// https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/ExchangeMitigations.ps1,
/// https://github.com/microsoft/CSS-Exchange/commit/4b94757,
/// https://learn.microsoft.com/iis/extensions/url-rewrite-module/url-rewrite-module-configuration-reference
public struct WebConfigParser: EvidenceLineParser {
    public var format: EvidenceFormat { .webConfig }
    /// The longest tag (bytes of text) kept while it spans lines.
    public static let maxTagBytes = 64 * 1024
    static let schema = FieldSchema(names: ["Rule", "Cookie", "Pattern", "SyntaxAttribute", "Mitigation"])
    /// The cookie names the two mitigation rules test, as EOMT writes them.
    public static let cookies = ["X-AnonResource-Backend", "X-BEResource"]

    struct Rule {
        var name: String
        var syntaxAttribute: String
        var cookie: String?
        var pattern = ""
        var action = ""
        var mitigation = false
    }

    var pending = ""
    var pendingLine = 0
    var inComment = false
    var rule: Rule?
    var sawConfiguration = false
    var closedConfiguration = false
    var droppedTags = 0
    var found: [String: String] = [:]      // cookie → rule name
    var typo: [String] = []
    var notAborting: [String] = []

    public init() {}

    /// Whether a (lowercased, trimmed) line opens an XML `<configuration>` element.
    static func opensConfiguration(_ lower: String) -> Bool {
        var l = Substring(lower)
        if l.hasPrefix("\u{FEFF}") { l = l.dropFirst() }
        if l.hasPrefix("<?xml"), let r = l.range(of: "?>") { l = l[r.upperBound...].drop(while: { $0 == " " || $0 == "\t" }) }
        guard l.hasPrefix("<configuration") else { return false }
        let next = l.dropFirst("<configuration".count).first
        return next == nil || next == ">" || next == " " || next == "/" || next == "\t"
    }

    public var warnings: [String] {
        var w: [String] = []
        let name = { (s: String) in "'" + String(s.prefix(80)) + "'" }
        if found.isEmpty {
            w.append("no URL Rewrite rule for CVE-2021-26855 (X-AnonResource-Backend / X-BEResource cookie, AbortRequest) in this web.config: it shows no interim mitigation")
        } else if found.count == 1, let cookie = Self.cookies.first(where: { found[$0] == nil }) {
            w.append("only one of the two EOMT rules is present: no rule aborts the \(cookie) cookie")
        }
        for n in typo {
            w.append("rule \(name(n)) is written with patterSyntax (typo of the first ExchangeMitigations/BackendCookieMitigation releases, CSS-Exchange commit 4b94757); read as patternSyntax")
        }
        for n in notAborting { w.append("rule \(name(n)) tests the cookie but does not abort the request: not counted as the mitigation") }
        if droppedTags > 0 { w.append("\(droppedTags) tag(s) longer than \(Self.maxTagBytes) bytes were not read") }
        if inComment || !pending.isEmpty { w.append("file ends inside a tag or comment (line \(pendingLine)): truncated") }
        if let rule { w.append("file ends inside rule \(name(rule.name)): truncated; the rule was not counted") }
        else if sawConfiguration && !closedConfiguration { w.append("file ends before </configuration>: truncated; rules after the cut are unknown") }
        return w
    }

    public mutating func parse(_ text: String, line: Int) -> LogRecord? {
        var finished: [Rule] = []
        var s = Substring(text)
        if !pending.isEmpty {
            if pending.utf8.count + text.utf8.count > Self.maxTagBytes {
                pending = ""; droppedTags += 1
                // Skip to the end of the dropped tag.
                guard let gt = s.firstIndex(of: ">") else { return nil }
                s = s[s.index(after: gt)...]
            } else {
                s = Substring(pending + " " + text)
                pending = ""
            }
        }
        while !s.isEmpty {
            if inComment {
                guard let end = s.range(of: "-->") else { return record(finished, line: line) }
                inComment = false
                s = s[end.upperBound...]
                continue
            }
            guard let lt = s.firstIndex(of: "<") else { break }
            let tagText = s[s.index(after: lt)...]
            if tagText.hasPrefix("!--") {
                inComment = true
                s = tagText.dropFirst(3)
                continue
            }
            guard let gt = tagText.firstIndex(of: ">") else {
                if tagText.utf8.count < Self.maxTagBytes { pending = "<" + String(tagText); pendingLine = line } else { droppedTags += 1 }
                break
            }
            if let done = tag(tagText[..<gt]) { finished.append(done) }
            s = tagText[tagText.index(after: gt)...]
        }
        return record(finished, line: line)
    }

    /// Handles one tag (the text between `<` and `>`); returns a rule when one ends.
    mutating func tag(_ body: Substring) -> Rule? {
        let selfClosing = body.hasSuffix("/")
        let content = selfClosing ? body.dropLast() : body
        let nameEnd = content.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) ?? content.endIndex
        let name = content[..<nameEnd].lowercased()
        let attrs = Self.attributes(content[nameEnd...])
        switch name {
        case "configuration": sawConfiguration = true; if selfClosing { closedConfiguration = true }
        case "/configuration": closedConfiguration = true
        case "rule":
            let syntax = attrs["patternsyntax"] != nil ? "patternSyntax" : attrs["pattersyntax"] != nil ? "patterSyntax" : ""
            rule = Rule(name: attrs["name"] ?? "", syntaxAttribute: syntax)
            if selfClosing { return finishRule() }
        case "/rule": return finishRule()
        case "add" where rule != nil:
            let input = (attrs["input"] ?? "").lowercased()
            let pattern = attrs["pattern"] ?? ""
            let lower = pattern.lowercased()
            if input.contains("http_cookie"), let cookie = Self.cookies.first(where: { lower.contains($0.lowercased()) }) {
                rule?.cookie = cookie
                rule?.pattern = pattern
            }
        case "action" where rule != nil: rule?.action = attrs["type"] ?? ""
        default: break
        }
        return nil
    }

    mutating func finishRule() -> Rule? {
        guard var r = rule else { return nil }
        rule = nil
        if let cookie = r.cookie {
            if r.action.caseInsensitiveCompare("AbortRequest") == .orderedSame {
                r.mitigation = true
                if found[cookie] == nil { found[cookie] = r.name }
                if r.syntaxAttribute == "patterSyntax" { typo.append(r.name) }
            } else {
                notAborting.append(r.name)
            }
        }
        return r
    }

    func record(_ all: [Rule], line: Int) -> LogRecord? {
        // The mitigation rules ending on this line, else the other rules (no mitigation).
        let mitigation = all.filter(\.mitigation)
        let rules = mitigation.isEmpty ? all : mitigation
        guard !rules.isEmpty else { return nil }
        let raw = rules.map { "<rule name=\"\($0.name)\">" + ($0.cookie == nil ? "" : " {HTTP_COOKIE} \($0.pattern)") + " → \($0.action)" }
            .joined(separator: "; ")
        return LogRecord(line: line, raw: raw, schema: Self.schema, columns: [
            rules.map(\.name).joined(separator: "; "),
            rules.compactMap(\.cookie).joined(separator: "; "),
            rules.map(\.pattern).joined(separator: "; "),
            rules.map(\.syntaxAttribute).joined(separator: "; "),
            mitigation.isEmpty ? "" : "CVE-2021-26855",
        ])
    }

    /// XML attributes `name="value"` / `name='value'` (names lowercased, entities decoded); a
    /// malformed rest is ignored.
    static func attributes(_ s: Substring) -> [String: String] {
        var out: [String: String] = [:]
        var rest = s
        while let eq = rest.firstIndex(of: "=") {
            let name = rest[..<eq].trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            var after = rest[rest.index(after: eq)...].drop(while: { $0 == " " || $0 == "\t" })
            guard let quote = after.first, quote == "\"" || quote == "'" else { break }
            after = after.dropFirst()
            guard let close = after.firstIndex(of: quote) else { break }
            if out[name] == nil { out[name] = decode(after[..<close]) }
            rest = after[after.index(after: close)...]
        }
        return out
    }

    static func decode(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        return s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
