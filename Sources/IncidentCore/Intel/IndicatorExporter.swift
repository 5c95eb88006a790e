import Foundation

/// This program's own indicator export: every field of every indicator, for a lossless round trip.
///
/// JSON shape: `{"incidentIndicatorExport": 1, "name", "exportedAt" (ISO-8601 UTC), "indicators": [ImportedIOC]}`.
public struct IndicatorExportFile: Codable, Sendable, Equatable {
    public var incidentIndicatorExport: Int
    public var name: String
    public var exportedAt: Date
    public var indicators: [ImportedIOC]

    public init(name: String, exportedAt: Date, indicators: [ImportedIOC]) {
        self.incidentIndicatorExport = 1
        self.name = name
        self.exportedAt = exportedAt
        self.indicators = indicators
    }
}

/// Writes indicators and hits in the formats other tools read: STIX 2.1 bundles
/// (https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html), MISP events
/// (https://www.misp-project.org/datamodels/) and Timesketch JSONL
/// (https://timesketch.org/guides/user/import-from-json-csv/).
public enum IndicatorExporter {
    // MARK: - Deterministic ids

    /// A UUID derived from a name (SHA-256 of a namespace and the name, version bits 4, variant
    /// bits 10), so exporting the same case twice gives the same STIX and MISP ids.
    public static func uuid(_ name: String) -> String {
        let d = SHA256Hex.digest(Array(("incident-console:" + name).utf8))
        var hex = Array(d.prefix(32))
        hex[12] = "4"
        let variant = "89ab"
        hex[16] = variant[variant.index(variant.startIndex, offsetBy: Int(String(hex[16]), radix: 16)! % 4)]
        let s = String(hex)
        func part(_ a: Int, _ b: Int) -> Substring { s[s.index(s.startIndex, offsetBy: a)..<s.index(s.startIndex, offsetBy: b)] }
        return "\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }

    static func json(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func iso(_ d: Date) -> String { Timestamps.iso8601(d) }

    // MARK: - Indicators

    /// Own JSON export (lossless).
    public static func ownJSON(_ iocs: [ImportedIOC], name: String, now: Date) throws -> Data {
        try JSONCoding.encoder().encode(IndicatorExportFile(name: name, exportedAt: now, indicators: iocs)) + Data("\n".utf8)
    }

    /// The STIX indicator object for one IOC: a standard pattern where STIX has one (or
    /// `pattern_type` `pcre` for regexes, `yara` for YARA rules), and the whole IOC in the
    /// custom property `x_incident_ioc` so that an import by this program loses nothing.
    static func stixIndicator(_ ioc: ImportedIOC, created: Date) -> [String: Any] {
        var o: [String: Any] = [
            "type": "indicator", "spec_version": "2.1", "id": "indicator--" + uuid("ioc|" + ioc.key),
            "created": iso(created), "modified": iso(created), "valid_from": iso(created),
            "indicator_types": ["malicious-activity"],
            "name": ioc.description ?? "\(ioc.type.rawValue) \(ioc.value.prefix(80))",
        ]
        if let p = STIXPattern.pattern(for: ioc) {
            o["pattern"] = p
            o["pattern_type"] = "stix"
        } else if ioc.type == .yaraRule {
            o["pattern"] = ioc.value
            o["pattern_type"] = "yara"
        } else {
            o["pattern"] = ioc.type == .logString ? NSRegularExpression.escapedPattern(for: ioc.value) : ioc.value
            o["pattern_type"] = "pcre"
        }
        if let s = ioc.score { o["confidence"] = max(0, min(100, s)) }
        var x: [String: Any] = ["type": ioc.type.rawValue, "value": ioc.value]
        if let d = ioc.description { x["description"] = d }
        if let s = ioc.score { x["score"] = s }
        if let e = ioc.exclude { x["exclude"] = e }
        if let sc = ioc.scope { x["scope"] = sc.rawValue }
        o["x_incident_ioc"] = x
        return o
    }

    /// A STIX 2.1 bundle of indicators.
    public static func stixBundle(_ iocs: [ImportedIOC], name: String, now: Date) throws -> Data {
        let objects = iocs.map { stixIndicator($0, created: now) }
        return try json(["type": "bundle", "id": "bundle--" + uuid("bundle|" + name + "|" + iso(now)), "objects": objects]) + Data("\n".utf8)
    }

    /// MISP attribute type and category for an IOC, or nil when MISP has no type for it.
    static func mispAttributeType(_ ioc: ImportedIOC) -> (String, String)? {
        switch ioc.type {
        case .sha256: ("sha256", "Payload delivery")
        case .sha1: ("sha1", "Payload delivery")
        case .md5: ("md5", "Payload delivery")
        case .fileName, .filePath: ("filename", "Artifacts dropped")
        case .ipv4, .ipv6: ("ip-src", "Network activity")
        case .domain: ("domain", "Network activity")
        case .url: ("url", "Network activity")
        case .userAgent: ("user-agent", "Network activity")
        case .yaraRule: ("yara", "Payload installation")
        case .filePathRegex, .logString, .logRegex: nil
        }
    }

    /// A MISP event of indicators; kinds MISP has no attribute type for are left out and counted.
    public static func mispEvent(_ iocs: [ImportedIOC], info: String, now: Date) throws -> (Data, skipped: Int) {
        var attributes: [[String: Any]] = []
        var skipped = 0
        for ioc in iocs {
            guard let (type, category) = mispAttributeType(ioc) else { skipped += 1; continue }
            var a: [String: Any] = ["type": type, "category": category, "value": ioc.value, "to_ids": true,
                                    "uuid": uuid("misp|" + ioc.key)]
            if let d = ioc.description { a["comment"] = d }
            attributes.append(a)
        }
        let event: [String: Any] = ["Event": [
            "info": info, "date": String(iso(now).prefix(10)), "threat_level_id": "1", "analysis": "2", "distribution": "0",
            "uuid": uuid("misp-event|" + info + "|" + iso(now)), "Attribute": attributes,
        ]]
        return (try json(event) + Data("\n".utf8), skipped)
    }

    // MARK: - Hits

    /// STIX 2.1 bundle of the hits: one `identity` (class `system`) per server, one `indicator`
    /// per indicator that hit (pattern type `incident-console`, its rule id as the pattern, its
    /// sources as external references), and one `sighting` per indicator and server with count,
    /// first and last seen, and the evidence files (path and SHA-256) in its description.
    public static func stixSightings(_ hits: [Hit], caseFile: CaseFile, indicators: [String: Indicator], now: Date) throws -> Data {
        var objects: [[String: Any]] = []
        let servers = Set(hits.map { $0.server })
        var serverRef: [String: String] = [:]
        for s in servers.sorted() {
            let id = "identity--" + uuid("server|" + caseFile.caseId + "|" + s.lowercased())
            serverRef[s] = id
            var o: [String: Any] = ["type": "identity", "spec_version": "2.1", "id": id, "created": iso(caseFile.created),
                                    "modified": iso(caseFile.created), "name": s, "identity_class": "system"]
            if let fqdn = caseFile.server(named: s)?.fqdn { o["description"] = "Exchange server \(fqdn)" }
            objects.append(o)
        }
        let hashes = Dictionary(caseFile.evidence.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        var grouped: [String: [Hit]] = [:]
        for h in hits { grouped[h.indicator + "\u{1}" + h.server, default: []].append(h) }
        var emitted = Set<String>()
        for key in grouped.keys.sorted() {
            let group = grouped[key]!
            let indicatorID = group[0].indicator
            let ref = "indicator--" + uuid("rule|" + indicatorID)
            if emitted.insert(indicatorID).inserted {
                let rule = indicators[indicatorID]
                var o: [String: Any] = ["type": "indicator", "spec_version": "2.1", "id": ref, "created": iso(now), "modified": iso(now),
                                        "valid_from": iso(now), "name": rule?.title ?? indicatorID, "pattern_type": "incident-console",
                                        "pattern": indicatorID, "indicator_types": ["malicious-activity"]]
                if let rule {
                    o["description"] = rule.description
                    var refs: [[String: Any]] = rule.sources.map { ["source_name": "source", "url": $0] }
                    if let cve = rule.cve, cve.hasPrefix("CVE-") { refs.insert(["source_name": "cve", "external_id": cve], at: 0) }
                    o["external_references"] = refs
                }
                objects.append(o)
            }
            let times = group.compactMap(\.time).sorted()
            let files = Set(group.map(\.evidence)).sorted()
            var s: [String: Any] = [
                "type": "sighting", "spec_version": "2.1", "id": "sighting--" + uuid("sighting|" + caseFile.caseId + "|" + key),
                "created": iso(now), "modified": iso(now), "sighting_of_ref": ref, "count": group.count,
                "where_sighted_refs": [serverRef[group[0].server]!],
                "description": "Evidence: " + files.map { "\($0) (sha256 \(hashes[$0] ?? "unknown"))" }.joined(separator: "; "),
                "x_incident_hits": group.map { ["id": $0.id, "evidence": $0.evidence, "line": $0.line, "field": $0.field, "value": $0.value] as [String: Any] },
            ]
            if let f = times.first { s["first_seen"] = iso(f) }
            if let l = times.last { s["last_seen"] = iso(l) }
            objects.append(s)
        }
        return try json(["type": "bundle", "id": "bundle--" + uuid("hits|" + caseFile.caseId + "|" + iso(now)), "objects": objects]) + Data("\n".utf8)
    }

    /// MISP type of a hit's value by the field it was found in.
    static func mispType(forHitField field: String, value: String) -> (String, String) {
        let f = field.lowercased()
        if ["c-ip", "clientipaddress", "client-ip"].contains(f) { return ("ip-src", "Network activity") }
        if ["cs(user-agent)", "useragent", "user-agent"].contains(f) { return ("user-agent", "Network activity") }
        if ["cs-uri-stem", "urlstem", "url-stem", "cs-uri"].contains(f) { return ("uri", "Network activity") }
        if f == "hash" {
            switch IndicatorImporter.isHash(value) {
            case .sha256: return ("sha256", "Artifacts dropped")
            case .sha1: return ("sha1", "Artifacts dropped")
            case .md5: return ("md5", "Artifacts dropped")
            default: break
            }
        }
        if ["path", "filename", "downloadpath"].contains(f) { return ("filename", "Artifacts dropped") }
        return ("text", "Other")
    }

    /// A MISP event with one attribute per distinct (field, value) that hit; the comment names
    /// the indicators, servers and evidence lines. `to_ids` is false: these are observations.
    public static func mispHitsEvent(_ hits: [Hit], caseFile: CaseFile, now: Date) throws -> Data {
        var byValue: [String: [Hit]] = [:]
        for h in hits { byValue[h.field.lowercased() + "\u{1}" + h.value, default: []].append(h) }
        var attributes: [[String: Any]] = []
        for key in byValue.keys.sorted() {
            let group = byValue[key]!
            let (type, category) = mispType(forHitField: group[0].field, value: group[0].value)
            let indicators = Set(group.map(\.indicator)).sorted().joined(separator: ", ")
            let servers = Set(group.map(\.server)).sorted().joined(separator: ", ")
            var refs: [String] = []
            for h in group where refs.count < 3 {
                let r = "\(h.evidence):\(h.line)"
                if !refs.contains(r) { refs.append(r) }
            }
            let firstRefs = refs.joined(separator: "; ")
            var a: [String: Any] = [
                "type": type, "category": category, "value": group[0].value, "to_ids": false,
                "uuid": uuid("misp-hit|" + caseFile.caseId + "|" + key),
                "comment": "\(indicators) on \(servers): \(group.count) hit(s), e.g. \(firstRefs)",
            ]
            if let first = group.compactMap(\.time).min() { a["first_seen"] = iso(first) }
            if let last = group.compactMap(\.time).max() { a["last_seen"] = iso(last) }
            attributes.append(a)
        }
        let event: [String: Any] = ["Event": [
            "info": "Incident Console hits: \(caseFile.name)", "date": String(iso(now).prefix(10)), "threat_level_id": "1",
            "analysis": "1", "distribution": "0", "uuid": uuid("misp-hits|" + caseFile.caseId + "|" + iso(now)), "Attribute": attributes,
        ]]
        return try json(event) + Data("\n".utf8)
    }

    /// The hit timeline as Timesketch JSONL: one object per line with `message`, `datetime`
    /// (ISO-8601 UTC), `timestamp_desc` and the hit's fields. Hits without an event time (file
    /// inventories) carry the evidence's intake time and say so in `timestamp_desc`.
    public static func timesketch(_ hits: [Hit], caseFile: CaseFile, indicators: [String: Indicator]) throws -> Data {
        let intake = Dictionary(caseFile.evidence.map { ($0.path, $0.addedAt) }, uniquingKeysWith: { a, _ in a })
        var out = Data()
        let sorted = hits.sorted { ($0.time ?? intake[$0.evidence] ?? .distantPast, $0.id) < ($1.time ?? intake[$1.evidence] ?? .distantPast, $1.id) }
        for h in sorted {
            let when = h.time ?? intake[h.evidence]
            guard let when else { continue }
            var o: [String: Any] = [
                "message": "[\(h.indicator)] \(indicators[h.indicator]?.title ?? h.indicator) on \(h.server): \(h.field)=\(h.value.prefix(500))",
                "datetime": iso(when),
                "timestamp_desc": h.time == nil ? "Evidence intake (no event time)" : "Log entry time",
                "hit_id": h.id, "indicator": h.indicator, "severity": h.severity.rawValue, "stage": h.stage.rawValue,
                "server": h.server, "evidence": h.evidence, "line": h.line, "field": h.field, "value": h.value,
                "data_type": "incident-console:hit",
            ]
            if let cve = h.cve { o["cve"] = cve }
            if let ip = h.clientIP { o["client_ip"] = ip }
            out += try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
            out += Data("\n".utf8)
        }
        return out
    }

    // MARK: - The case's indicators

    /// The indicators a case exports: those of its enabled imported packs, and with
    /// `includeBuiltIn` the atomic values of the built-in pack's lists (hashes, addresses,
    /// domains, user agents, file names), de-duplicated.
    public static func caseIndicators(folder: URL, caseFile: CaseFile, includeBuiltIn: Bool) throws -> [ImportedIOC] {
        var out: [ImportedIOC] = []
        for pack in try IndicatorPackStore.enabledPacks(in: folder, caseFile: caseFile) { out += pack.iocs }
        if includeBuiltIn {
            let pack = try BuiltInData.indicatorPack()
            // Which kind each list holds comes from the conditions that use it.
            var kinds: [String: IOCType] = [:]
            for i in pack.indicators {
                for c in i.all {
                    guard let list = c.values.first else { continue }
                    switch (c.op, c.field.lowercased()) {
                    case (.userAgentInList, _): kinds[list] = .userAgent
                    case (.inList, "client-ip"): kinds[list] = .ipv4
                    case (.inList, "filename"): kinds[list] = .fileName
                    case (.inList, "hash"): kinds[list] = .sha256
                    default: break
                    }
                }
            }
            for (list, values) in pack.lists.sorted(by: { $0.key < $1.key }) {
                for v in values {
                    let inferred = IndicatorImporter.inferType(v)
                    let t: IOCType?
                    switch kinds[list] {
                    case .ipv4?: t = IndicatorImporter.isIPv6(v) ? .ipv6 : .ipv4
                    case let k?: t = k
                    case nil: t = inferred == .domain ? .domain : nil
                    }
                    guard let t else { continue }
                    out.append(ImportedIOC(type: t, value: IndicatorImporter.normalise(t, v), description: "built-in list \(list)"))
                }
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.key).inserted }
    }
}
