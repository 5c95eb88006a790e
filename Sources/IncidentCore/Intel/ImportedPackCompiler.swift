import Foundation

/// Turns imported atomic indicators into rule-engine indicators, and merges them with the
/// built-in pack.
///
/// Matching, per kind (all case-insensitive):
/// - `sha256`/`sha1`/`md5`: an inventory row's `Hash`.
/// - `file-path`: an inventory row's `Path`; a path under an IIS or
///   Exchange web folder (`\inetpub\wwwroot\…`, `\FrontEnd\HttpProxy\<vdir>\…`) also matches the
///   URL it is served at, in IIS `cs-uri-stem` and HttpProxy `UrlStem` (`…/url` when the request
///   succeeded, 2xx; `…/url-failed`, medium and stage `attempt`, when it did not).
/// - `file-name`: an inventory row's `FileName`.
/// - `file-path-regex`: an inventory row's `Path`, unless the entry's exclusion regex matches.
/// - `ipv4`/`ipv6`: the client address (`c-ip`, `ClientIpAddress`).
/// - `domain`: the requested host (`cs-host`, HttpProxy `UrlHost`), exactly or as a parent domain.
/// - `url`: its path in `cs-uri-stem`/`UrlStem` (when the path is more than `/`); its host as a domain.
/// - `user-agent`: `cs(User-Agent)` / `UserAgent`, with IIS and HttpProxy spellings folded.
/// - `log-string` / `log-regex`: the whole line of the format named by `scope`.
/// - `yara-rule`: not matched on records (content rules are for collected files).
///
/// Severity and stage: exact file indicators (hashes, paths) are `high`; names, regexes and
/// network indicators are `medium`, or `low` when the source scores them under 50. Files under
/// web folders or with web extensions count as `web-shell` stage, other files as
/// `post-exploitation`; network and log indicators as `attempt`.
public enum ImportedPackCompiler {
    /// The rule-engine form of a pack: indicators named `<pack id>/<kind>[-n]`, value lists and
    /// pattern lists named after them.
    public static func compile(_ pack: ImportedPack) -> IndicatorPack {
        var lists: [String: [String]] = [:]
        var patterns: [String: [PatternEntry]] = [:]
        var indicators: [Indicator] = []
        let source = "imported: \(pack.sourceFile) (sha256 \(pack.sourceSHA256.prefix(12))…, \(Timestamps.iso8601(pack.importedAt)))"

        struct Group: Hashable {
            var type: IOCType
            var stage: Stage
            var severity: Severity
            var scope: EvidenceFormat?
        }
        var groups: [Group: [ImportedIOC]] = [:]
        for ioc in pack.iocs where ioc.type != .yaraRule {
            groups[Group(type: ioc.type, stage: stage(of: ioc), severity: severity(of: ioc), scope: ioc.scope), default: []].append(ioc)
        }
        let ordered = groups.keys.sorted {
            ($0.type, $0.stage.rank, $0.severity.rank, $0.scope?.rawValue ?? "") < ($1.type, $1.stage.rank, $1.severity.rank, $1.scope?.rawValue ?? "")
        }
        var perType: [IOCType: Int] = [:]
        for g in ordered {
            let iocs = groups[g]!
            let n = perType[g.type, default: 0]
            perType[g.type] = n + 1
            let base = "\(pack.id)/\(g.type.rawValue)" + (n == 0 ? "" : "-\(n + 1)")
            func add(_ suffix: String, title: String, formats: [EvidenceFormat], field: String, _ conditions: [Condition]) {
                indicators.append(Indicator(
                    id: base + suffix, title: "\(title) (pack \(pack.name))",
                    description: "\(iocs.count) indicator(s) of kind \(g.type.rawValue) imported from \(pack.sourceFile) (\(pack.format.rawValue)).",
                    severity: g.severity, stage: g.stage, cve: nil, formats: formats, field: field, all: conditions,
                    sources: [source], falsePositives: "Imported indicators carry the source's own false-positive rate.", suppressedBy: nil))
            }
            /// Hosts are `cs-host` in IIS logs and `UrlHost` in HttpProxy logs: one indicator each.
            func addHost(_ suffix: String, title: String, list: String) {
                add(suffix + "/iis", title: title, formats: [.iisW3C], field: "cs-host",
                    [Condition(field: "cs-host", op: .domainInList, values: [list])])
                add(suffix + "/httpproxy", title: title, formats: [.httpProxy], field: "UrlHost",
                    [Condition(field: "UrlHost", op: .domainInList, values: [list])])
            }
            let values = iocs.map(\.value)
            switch g.type {
            case .sha256, .sha1, .md5:
                lists[base] = values
                add("", title: "\(g.type.rawValue.uppercased()) of a known-bad file", formats: [.fileInventory], field: "Hash",
                    [Condition(field: "hash", op: .inList, values: [base])])
            case .filePath:
                lists[base] = values
                add("", title: "Known-bad file path", formats: [.fileInventory], field: "Path",
                    [Condition(field: "path", op: .inList, values: [base])])
                let urls = values.compactMap(servedURL)
                if !urls.isEmpty {
                    lists[base + "/url"] = urls
                    // Served (2xx): the file is there and answered. Anything else is a scan for
                    // a known web-shell name, which says nothing about the file being on disk.
                    add("/url", title: "Known-bad file requested successfully", formats: [.iisW3C, .httpProxy], field: "url-stem",
                        [Condition(field: "url-stem", op: .inList, values: [base + "/url"]),
                         Condition(field: "status", op: .startsWith, values: ["2"])])
                    indicators.append(Indicator(
                        id: base + "/url-failed", title: "Request for a known-bad file, not served (pack \(pack.name))",
                        description: "A request for a file of pack \(pack.name) that did not succeed: a probe for a known web-shell name.",
                        severity: .medium, stage: .attempt, cve: nil, formats: [.iisW3C, .httpProxy], field: "url-stem",
                        all: [Condition(field: "url-stem", op: .inList, values: [base + "/url"]),
                              Condition(field: "status", op: .notLike, values: ["2*"])],
                        sources: [source], falsePositives: "Scanners try known web-shell names on every server.", suppressedBy: nil))
                }
            case .fileName:
                lists[base] = values
                add("", title: "Known-bad file name", formats: [.fileInventory], field: "FileName",
                    [Condition(field: "FileName", op: .inList, values: [base])])
            case .filePathRegex:
                patterns[base] = iocs.map { PatternEntry(pattern: $0.value, exclude: $0.exclude) }
                add("", title: "File path matches an imported pattern", formats: [.fileInventory], field: "Path",
                    [Condition(field: "path", op: .regexInList, values: [base])])
            case .ipv4, .ipv6:
                lists[base] = values
                add("", title: "Request from a listed address", formats: [.iisW3C, .httpProxy], field: "client-ip",
                    [Condition(field: "client-ip", op: .inList, values: [base])])
            case .domain:
                lists[base] = values
                addHost("", title: "Request for a listed host", list: base)
            case .url:
                let hosts = values.compactMap { URLComponents(string: $0)?.host?.lowercased() }.filter { !$0.isEmpty }
                let paths = values.compactMap(urlPath).filter { $0.count > 1 }
                if !paths.isEmpty {
                    lists[base] = paths
                    add("", title: "Request for a listed URL", formats: [.iisW3C, .httpProxy], field: "url-stem",
                        [Condition(field: "url-stem", op: .inList, values: [base])])
                }
                if !hosts.isEmpty {
                    lists[base + "/host"] = hosts
                    addHost("/host", title: "Request for the host of a listed URL", list: base + "/host")
                }
            case .userAgent:
                lists[base] = values
                add("", title: "Listed user agent", formats: [.iisW3C, .httpProxy], field: "user-agent",
                    [Condition(field: "user-agent", op: .userAgentInList, values: [base])])
            case .logString:
                let format = g.scope ?? .iisW3C
                add("", title: "Log line contains an imported string", formats: [format], field: "raw-line",
                    [Condition(field: "raw-line", op: .containsAny, values: values)])
            case .logRegex:
                let format = g.scope ?? .iisW3C
                patterns[base] = values.map { PatternEntry(pattern: $0) }
                add("", title: "Log line matches an imported pattern", formats: [format], field: "raw-line",
                    [Condition(field: "raw-line", op: .regexInList, values: [base])])
            case .yaraRule:
                break
            }
        }
        return IndicatorPack(name: pack.name, version: pack.sourceSHA256, description: "Imported from \(pack.sourceFile)",
                             lists: lists, indicators: indicators, patternLists: patterns.isEmpty ? nil : patterns)
    }

    /// The built-in pack plus every given imported pack, as one pack for the rule engine.
    public static func merge(_ base: IndicatorPack, with packs: [IndicatorPack]) -> IndicatorPack {
        var merged = base
        for p in packs {
            merged.indicators += p.indicators
            merged.lists.merge(p.lists) { a, _ in a }
            if let pl = p.patternLists {
                var existing = merged.patternLists ?? [:]
                existing.merge(pl) { a, _ in a }
                merged.patternLists = existing
            }
        }
        return merged
    }

    static func stage(of ioc: ImportedIOC) -> Stage {
        switch ioc.type {
        case .sha256, .sha1, .md5, .filePath, .fileName, .filePathRegex:
            let v = ioc.value.lowercased()
            let d = (ioc.description ?? "").lowercased()
            let web = ["aspnet_client", "httpproxy", "wwwroot", "\\owa\\", "\\ecp\\", "/owa/", "/ecp/", "clientaccess\\oab"]
            let ext = [".aspx", ".asmx", ".ashx", ".asp", ".jsp", ".php"]
            if web.contains(where: v.contains) || ext.contains(where: { v.hasSuffix($0) || v.contains($0 + "$") || v.contains("\\" + $0) })
                || d.contains("webshell") || d.contains("web shell") {
                return .webShell
            }
            return .postExploitation
        default:
            return .attempt
        }
    }

    static func severity(of ioc: ImportedIOC) -> Severity {
        switch ioc.type {
        case .sha256, .sha1, .md5, .filePath: return .high
        default:
            if let s = ioc.score, s < 50 { return .low }
            if let s = ioc.score, s >= 80, ioc.type == .filePathRegex || ioc.type == .fileName { return .high }
            return .medium
        }
    }

    /// Lowercased, `/` turned into `\`.
    static func normalisePath(_ p: String) -> String {
        p.lowercased().replacingOccurrences(of: "/", with: "\\")
    }

    /// The URL path a file under a web folder is served at, lowercased, or nil:
    /// `…\inetpub\wwwroot\aspnet_client\x.aspx` → `/aspnet_client/x.aspx`;
    /// `…\FrontEnd\HttpProxy\owa\auth\x.aspx` → `/owa/auth/x.aspx`;
    /// `…\ClientAccess\<vdir>\…` → `/<vdir>/…`.
    static func servedURL(_ path: String) -> String? {
        let p = normalisePath(path)
        for marker in ["\\inetpub\\wwwroot\\", "\\frontend\\httpproxy\\", "\\clientaccess\\"] {
            if let r = p.range(of: marker) {
                let rest = p[r.upperBound...]
                guard !rest.isEmpty else { return nil }
                return "/" + rest.replacingOccurrences(of: "\\", with: "/")
            }
        }
        return nil
    }

    /// The path of a URL, lowercased (`/owa/auth/x.aspx`), or of a bare path given as a URL.
    static func urlPath(_ url: String) -> String? {
        if url.hasPrefix("/") { return String(url.split(separator: "?", maxSplits: 1)[0]).lowercased() }
        guard let c = URLComponents(string: url) else { return nil }
        return c.path.isEmpty ? nil : c.path.lowercased()
    }
}
