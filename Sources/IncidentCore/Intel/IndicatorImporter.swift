import Foundation
import Yams

/// Why an indicator file could not be imported at all (single bad lines are ``ImportProblem``s).
public enum IndicatorImportError: Error, Equatable, CustomStringConvertible {
    /// The content matches none of the formats in ``IndicatorSourceFormat``.
    case unrecognised(file: String)
    /// The file's JSON or YAML does not parse: file, 1-based line and column, message.
    case malformed(file: String, line: Int, column: Int, message: String)
    /// The file parsed but held no indicator that could be used.
    case empty(file: String, problems: [ImportProblem])

    public var description: String {
        switch self {
        case let .unrecognised(file):
            "\(file): not a known indicator format (STIX 2.1, MISP event, MSTIC CSV, CHIRP YAML, signature-base lists, CSV or text); use --format to force one"
        case let .malformed(file, line, column, message): "\(file):\(line):\(column): \(message)"
        case let .empty(file, problems):
            "\(file): no usable indicators" + (problems.isEmpty ? "" : " (\(problems.count) skipped; first: \(problems[0]))")
        }
    }
}

/// Reads indicator files from other tools into ``ImportedIOC``s.
///
/// Every reader keeps going after a bad line or object: it is reported as an ``ImportProblem``
/// with its line number and skipped, and the rest is imported.
public enum IndicatorImporter {
    /// What one file gave.
    public struct Result: Sendable, Equatable {
        public var format: IndicatorSourceFormat
        public var iocs: [ImportedIOC]
        public var problems: [ImportProblem]
        /// A name the source gives itself (MISP `info`, an `incident` export's pack name), if any.
        public var suggestedName: String?
    }

    /// Guesses the format from the first bytes of the content (never from the file name).
    public static func detect(_ data: Data) -> IndicatorSourceFormat? {
        let text = decode(data)
        let head = String(text.prefix(64 * 1024))
        let trimmed = head.drop { $0.isWhitespace }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            if head.contains("\"incidentIndicatorExport\"") { return .incidentJSON }
            // A bundle names itself by "type": "bundle", which may come after a long "objects"
            // array (keys are unordered); its id ("bundle--…") and STIX object ids also show it.
            if head.range(of: #""type"\s*:\s*"bundle""#, options: .regularExpression) != nil
                || head.range(of: #""id"\s*:\s*"bundle--"#, options: .regularExpression) != nil
                || (head.contains("\"objects\"") && head.range(of: #""spec_version"\s*:\s*"2\.1""#, options: .regularExpression) != nil) {
                return .stix
            }
            if head.contains("\"Event\"") || head.contains("\"Attribute\"") { return .misp }
            return nil
        }
        let lines = head.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
        if let first = lines.first, first.lowercased().hasPrefix("dateadded,") && first.lowercased().contains("indicatortype") { return .msticCSV }
        if head.contains("ioc_type:") && (head.contains("\n---") || head.hasPrefix("---")) { return .chirpYAML }
        let data = lines.filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }.prefix(200)
        if data.isEmpty { return nil }
        let semicolon = data.filter { $0.contains(";") }
        if semicolon.count * 2 > data.count {
            let hashLike = semicolon.filter { isHash(String($0.split(separator: ";", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)) != nil }
            if hashLike.count * 2 > semicolon.count { return .signatureBaseHashes }
            let scored = semicolon.filter { line in
                let parts = line.split(separator: ";", omittingEmptySubsequences: false)
                return parts.count >= 2 && Int(parts[1].trimmingCharacters(in: .whitespaces)) != nil
            }
            if scored.count * 2 > semicolon.count { return .signatureBaseFilenames }
        }
        if let header = data.first, header.contains(",") {
            let cols = CSVLine.fields(header).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if cols.contains(where: { ["value", "indicator", "ioc", "observable"].contains($0) }) { return .csv }
        }
        // One value per line: c2-iocs style (IPs and hosts only) or a mixed text list.
        let kinds = data.map { inferType(String($0).trimmingCharacters(in: .whitespaces)) }
        if kinds.allSatisfy({ $0 == .ipv4 || $0 == .ipv6 || $0 == .domain }) { return .signatureBaseC2 }
        if kinds.filter({ $0 != nil }).count * 2 > kinds.count { return .text }
        return nil
    }

    /// Parses `data` as `format`.
    /// - Throws: ``IndicatorImportError/malformed(file:line:column:message:)`` when JSON or YAML
    ///   does not parse, ``IndicatorImportError/empty(file:problems:)`` when nothing is usable.
    public static func parse(_ data: Data, format: IndicatorSourceFormat, fileName: String) throws -> Result {
        var result: Result
        switch format {
        case .stix: result = try parseSTIX(data, fileName: fileName)
        case .misp: result = try parseMISP(data, fileName: fileName)
        case .incidentJSON: result = try parseOwnExport(data, fileName: fileName)
        case .chirpYAML: result = try parseCHIRP(data, fileName: fileName)
        case .msticCSV: result = parseMSTIC(decode(data))
        case .signatureBaseFilenames: result = parseFilenameIOCs(decode(data))
        case .signatureBaseHashes: result = parseHashIOCs(decode(data))
        case .signatureBaseC2: result = parseLines(decode(data), format: .signatureBaseC2)
        case .text: result = parseLines(decode(data), format: .text)
        case .csv: result = parseCSV(decode(data))
        }
        // Duplicates within one file are kept once (first wins, with its description).
        var seen = Set<String>()
        result.iocs = result.iocs.filter { seen.insert($0.key).inserted }
        if result.iocs.isEmpty { throw IndicatorImportError.empty(file: fileName, problems: result.problems) }
        return result
    }

    // MARK: - Value kinds

    /// The hash kind of a hex string by its length, or nil.
    public static func isHash(_ s: String) -> IOCType? {
        guard s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }) else { return nil }
        switch s.utf8.count {
        case 64: return .sha256
        case 40: return .sha1
        case 32: return .md5
        default: return nil
        }
    }

    /// Whether `s` is a dotted IPv4 address.
    public static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in p.count >= 1 && p.count <= 3 && p.allSatisfy(\.isASCII) && Int(p).map { $0 <= 255 } == true }
    }

    /// Whether `s` is an IPv6 address (`inet_pton` accepts it).
    public static func isIPv6(_ s: String) -> Bool {
        guard s.contains(":") else { return false }
        var buffer = in6_addr()
        return inet_pton(AF_INET6, s, &buffer) == 1
    }

    /// Whether `s` looks like a DNS name with at least two labels and a non-numeric top label.
    public static func isDomain(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, s.utf8.count <= 253 else { return false }
        for l in labels {
            guard !l.isEmpty, l.utf8.count <= 63, !l.hasPrefix("-"), !l.hasSuffix("-"),
                  l.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
            else { return false }
        }
        return labels.last.map { !$0.allSatisfy(\.isNumber) } ?? false
    }

    /// The kind of a bare value in a text list, or nil when it is none of the known kinds.
    public static func inferType(_ raw: String) -> IOCType? {
        let s = refang(raw)
        if s.isEmpty { return nil }
        if let h = isHash(s) { return h }
        if isIPv4(s) { return .ipv4 }
        if isIPv6(s) { return .ipv6 }
        let lower = s.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") { return .url }
        if s.count >= 3, s.dropFirst().hasPrefix(":\\") || s.hasPrefix("\\\\") || s.hasPrefix("%") && s.contains("\\") { return .filePath }
        if isDomain(s) {
            // `shell.aspx` is a file name, not a host, when its last label is a file extension.
            let ext = lower.split(separator: ".").last.map(String.init) ?? ""
            return fileExtensions.contains(ext) ? .fileName : .domain
        }
        return nil
    }

    /// Extensions that make `a.b` a file name rather than a host name.
    static let fileExtensions: Set<String> = [
        "aspx", "asmx", "ashx", "asp", "js", "css", "dll", "exe", "ps1", "bat", "cmd", "vbs", "zip", "7z", "rar",
        "dmp", "txt", "log", "php", "jsp", "config", "xml", "gif", "png", "jpg", "ttf", "eot", "flt", "hta",
    ]

    /// Undoes common defanging: `hxxp` → `http`, `[.]` / `(.)` → `.`, `[:]` → `:`.
    public static func refang(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        for (a, b) in [("[.]", "."), ("(.)", "."), ("{.}", "."), ("[:]", ":"), ("[://]", "://")] {
            t = t.replacingOccurrences(of: a, with: b)
        }
        if t.lowercased().hasPrefix("hxxp") { t = "http" + t.dropFirst(4) }
        return t
    }

    /// Normalises a value of a known kind: hashes and hosts lowercased, defanged values refanged.
    static func normalise(_ type: IOCType, _ raw: String) -> String {
        let s = refang(raw)
        switch type {
        case .sha256, .sha1, .md5, .domain: return s.lowercased()
        case .ipv4:
            // Zero-padded octets (`198.051.100.009`, as some feeds write them) are decimal: unpadded,
            // as logs write addresses.
            guard isIPv4(s) else { return s.lowercased() }
            return s.split(separator: ".").map { String(Int($0) ?? 0) }.joined(separator: ".")
        case .ipv6: return IPAddressText.canonical(s) ?? s.lowercased()
        default: return s
        }
    }

    /// Checks that a value fits its declared kind; returns the reason when it does not.
    static func invalidReason(_ type: IOCType, _ value: String) -> String? {
        switch type {
        case .sha256, .sha1, .md5: return isHash(value) == type ? nil : "\"\(clip(value))\" is not a \(type.rawValue) hash"
        case .ipv4: return isIPv4(value) ? nil : "\"\(clip(value))\" is not an IPv4 address"
        case .ipv6: return isIPv6(value) ? nil : "\"\(clip(value))\" is not an IPv6 address"
        case .domain: return isDomain(value) ? nil : "\"\(clip(value))\" is not a domain name"
        case .filePathRegex, .logRegex:
            return (try? NSRegularExpression(pattern: value)) == nil ? "regex does not compile: \(clip(value))" : nil
        default: return value.isEmpty ? "empty value" : nil
        }
    }

    static func clip(_ s: String) -> String { s.count > 80 ? String(s.prefix(77)) + "…" : s }

    /// Text of a file: UTF-8 (BOM or not) or UTF-16 with a BOM; invalid bytes become U+FFFD.
    static func decode(_ data: Data) -> String {
        let bytes = [UInt8](data)
        let (encoding, bom) = TextEncoding.detect(bytes[...])
        switch encoding {
        case .utf16LE: return String(decoding: utf16Units(bytes.dropFirst(bom), bigEndian: false), as: UTF16.self)
        case .utf16BE: return String(decoding: utf16Units(bytes.dropFirst(bom), bigEndian: true), as: UTF16.self)
        default: return String(decoding: bytes.dropFirst(bom), as: UTF8.self)
        }
    }

    private static func utf16Units(_ b: ArraySlice<UInt8>, bigEndian: Bool) -> [UInt16] {
        var out: [UInt16] = []
        out.reserveCapacity(b.count / 2)
        var i = b.startIndex
        while i + 1 < b.endIndex {
            let u = bigEndian ? UInt16(b[i]) << 8 | UInt16(b[i + 1]) : UInt16(b[i + 1]) << 8 | UInt16(b[i])
            out.append(u)
            i += 2
        }
        return out
    }

    /// Lines with their 1-based numbers (LF, CRLF or CR).
    static func numberedLines(_ text: String) -> [(Int, String)] {
        var out: [(Int, String)] = []
        var n = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            n += 1
            out.append((n, String(line)))
        }
        return out
    }

    // MARK: - Line formats

    /// The non-blank, non-comment lines of a list, trimmed, with their 1-based numbers and the
    /// text of the last `#` comment before them (lists name their sections that way).
    static func dataLines(_ text: String) -> [(Int, String, String?)] {
        var out: [(Int, String, String?)] = []
        var section: String?
        for (n, raw) in numberedLines(text) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let comment = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                if !comment.isEmpty { section = comment }
                continue
            }
            out.append((n, line, section))
        }
        return out
    }

    static func parseMSTIC(_ text: String) -> Result {
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        var columns: [String: Int] = [:]
        for (n, line) in numberedLines(text) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = CSVLine.fields(line)
            if columns.isEmpty {
                for (i, f) in fields.enumerated() { columns[f.trimmingCharacters(in: .whitespaces).lowercased()] = i }
                continue
            }
            guard let vi = columns["indicator"], let ti = columns["indicatortype"], vi < fields.count, ti < fields.count else {
                problems.append(ImportProblem(line: n, message: "fewer columns than the header"))
                continue
            }
            let value = fields[vi].trimmingCharacters(in: .whitespaces)
            let kind = fields[ti].trimmingCharacters(in: .whitespaces).lowercased()
            let type: IOCType?
            switch kind {
            case "sha256": type = .sha256
            case "sha1": type = .sha1
            case "md5": type = .md5
            case "filepath", "filename":
                type = value.contains("\\") || value.contains("/") ? .filePath : .fileName
            case "domainname", "domain", "hostname": type = .domain
            case "ipv4", "ipaddress", "ip": type = isIPv6(value) ? .ipv6 : .ipv4
            case "url": type = .url
            default: type = nil
            }
            guard let type else {
                problems.append(ImportProblem(line: n, message: "unknown IndicatorType \"\(clip(kind))\""))
                continue
            }
            let v = normalise(type, value)
            if let reason = invalidReason(type, v) {
                problems.append(ImportProblem(line: n, message: reason))
                continue
            }
            let added = columns["dateadded"].flatMap { $0 < fields.count ? fields[$0] : nil } ?? ""
            iocs.append(ImportedIOC(type: type, value: v, description: added.isEmpty ? nil : "MSTIC, added \(added)", line: n))
        }
        return Result(format: .msticCSV, iocs: iocs, problems: problems)
    }

    static func parseFilenameIOCs(_ text: String) -> Result {
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        for (n, line, section) in dataLines(text) {
            // The regex may itself contain `;` only inside a character class in practice; split
            // from the right so `REGEX;SCORE;FP` keeps the regex whole.
            let parts = splitSignatureBase(line)
            guard let (regex, score, fp) = parts else {
                problems.append(ImportProblem(line: n, message: "expected REGEX;SCORE[;FP-REGEX]"))
                continue
            }
            if let reason = invalidReason(.filePathRegex, regex) {
                problems.append(ImportProblem(line: n, message: reason))
                continue
            }
            if let fp, (try? NSRegularExpression(pattern: fp)) == nil {
                problems.append(ImportProblem(line: n, message: "false-positive regex does not compile: \(clip(fp))"))
                continue
            }
            iocs.append(ImportedIOC(type: .filePathRegex, value: regex, description: section, score: score, exclude: fp, line: n))
        }
        return Result(format: .signatureBaseFilenames, iocs: iocs, problems: problems)
    }

    /// Splits `REGEX;SCORE[;FP]` where SCORE is an integer; the regex is everything before the
    /// last `;<integer>` field that is followed by nothing or one more field.
    static func splitSignatureBase(_ line: String) -> (String, Int, String?)? {
        let parts = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return nil }
        if let score = Int(parts[parts.count - 1].trimmingCharacters(in: .whitespaces)) {
            let regex = parts.dropLast().joined(separator: ";")
            return regex.isEmpty ? nil : (regex, score, nil)
        }
        if parts.count >= 3, let score = Int(parts[parts.count - 2].trimmingCharacters(in: .whitespaces)) {
            let regex = parts.dropLast(2).joined(separator: ";")
            let fp = parts[parts.count - 1]
            return regex.isEmpty ? nil : (regex, score, fp.isEmpty ? nil : fp)
        }
        return nil
    }

    static func parseHashIOCs(_ text: String) -> Result {
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        for (n, raw) in numberedLines(text) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            let value = String(parts[0]).trimmingCharacters(in: .whitespaces).lowercased()
            guard let type = isHash(value) else {
                problems.append(ImportProblem(line: n, message: "\"\(clip(value))\" is not an MD5, SHA-1 or SHA-256 hash"))
                continue
            }
            let description = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : nil
            iocs.append(ImportedIOC(type: type, value: value, description: description?.isEmpty == true ? nil : description, line: n))
        }
        return Result(format: .signatureBaseHashes, iocs: iocs, problems: problems)
    }

    /// One value per line (`#` comments and blank lines skipped; a trailing `# comment` or
    /// `;comment` is the description).
    static func parseLines(_ text: String, format: IndicatorSourceFormat) -> Result {
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        for (n, line, section) in dataLines(text) {
            var value = line
            var description = section
            for separator in [" #", "\t#", ";"] {
                if let r = value.range(of: separator) {
                    description = String(value[r.upperBound...]).trimmingCharacters(in: .whitespaces)
                    value = String(value[..<r.lowerBound]).trimmingCharacters(in: .whitespaces)
                    break
                }
            }
            guard let type = inferType(value) else {
                problems.append(ImportProblem(line: n, message: "\"\(clip(value))\" is not a hash, IP address, domain, URL or path"))
                continue
            }
            if format == .signatureBaseC2 && ![.ipv4, .ipv6, .domain].contains(type) {
                problems.append(ImportProblem(line: n, message: "\"\(clip(value))\" is not an IP address or host name"))
                continue
            }
            iocs.append(ImportedIOC(type: type, value: normalise(type, value), description: description, line: n))
        }
        return Result(format: format, iocs: iocs, problems: problems)
    }

    /// CSV with a header: a value column (`value`/`indicator`/`ioc`/`observable`), an optional
    /// type column (`type`/`indicator_type`/`indicatortype`/`kind`) and description column.
    static func parseCSV(_ text: String) -> Result {
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        var header: [String]?
        for (n, raw) in numberedLines(text) {
            if raw.trimmingCharacters(in: .whitespaces).isEmpty || raw.hasPrefix("#") { continue }
            let fields = CSVLine.fields(raw).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let cols = header else {
                header = fields.map { $0.lowercased() }
                continue
            }
            func column(_ names: [String]) -> String? {
                guard let i = cols.firstIndex(where: names.contains), i < fields.count else { return nil }
                return fields[i]
            }
            guard let value = column(["value", "indicator", "ioc", "observable"]), !value.isEmpty else {
                problems.append(ImportProblem(line: n, message: "no value"))
                continue
            }
            let declared = column(["type", "indicator_type", "indicatortype", "kind"]).map { $0.lowercased() }
            var type: IOCType?
            if let declared, !declared.isEmpty {
                type = IOCType(rawValue: declared) ?? mispType(declared)?.0
                if type == nil {
                    problems.append(ImportProblem(line: n, message: "unknown type \"\(clip(declared))\""))
                    continue
                }
            } else {
                type = inferType(value)
            }
            guard let type else {
                problems.append(ImportProblem(line: n, message: "\"\(clip(value))\" is not a hash, IP address, domain, URL or path"))
                continue
            }
            let v = normalise(type, value)
            if let reason = invalidReason(type, v) {
                problems.append(ImportProblem(line: n, message: reason))
                continue
            }
            let description = column(["description", "comment", "name", "title"])
            iocs.append(ImportedIOC(type: type, value: v, description: description?.isEmpty == true ? nil : description, line: n))
        }
        return Result(format: .csv, iocs: iocs, problems: problems)
    }

    // MARK: - JSON formats

    static func jsonObject(_ data: Data, fileName: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let locator = JSONLocator([UInt8](data))
            if let (pos, message) = locator.firstSyntaxError() {
                throw IndicatorImportError.malformed(file: fileName, line: pos.line, column: pos.column, message: message)
            }
            throw IndicatorImportError.malformed(file: fileName, line: 1, column: 1, message: "not valid JSON")
        }
    }

    static func parseSTIX(_ data: Data, fileName: String) throws -> Result {
        let root = try jsonObject(data, fileName: fileName)
        guard let bundle = root as? [String: Any], let objects = bundle["objects"] as? [Any] else {
            throw IndicatorImportError.malformed(file: fileName, line: 1, column: 1, message: "a STIX bundle needs an \"objects\" array")
        }
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        for (i, object) in objects.enumerated() {
            guard let o = object as? [String: Any], let type = o["type"] as? String else {
                problems.append(ImportProblem(line: 0, message: "object \(i + 1): not a STIX object"))
                continue
            }
            guard type == "indicator" else { continue }
            let name = (o["name"] as? String) ?? (o["description"] as? String)
            if let x = o["x_incident_ioc"] as? [String: Any], let t = (x["type"] as? String).flatMap(IOCType.init(rawValue:)),
               let value = x["value"] as? String {
                // Our own export: the whole indicator is there, lossless.
                let scope = (x["scope"] as? String).flatMap(EvidenceFormat.init(rawValue:))
                iocs.append(ImportedIOC(type: t, value: value, description: x["description"] as? String, score: x["score"] as? Int,
                                        exclude: x["exclude"] as? String, scope: scope))
                continue
            }
            if (o["pattern_type"] as? String) == "yara", let rule = o["pattern"] as? String {
                iocs.append(ImportedIOC(type: .yaraRule, value: rule, description: name))
                continue
            }
            guard let pattern = o["pattern"] as? String else {
                problems.append(ImportProblem(line: 0, message: "indicator \(o["id"] as? String ?? "\(i + 1)"): no pattern"))
                continue
            }
            if let patternType = o["pattern_type"] as? String, patternType != "stix" {
                problems.append(ImportProblem(line: 0, message: "indicator \(o["id"] as? String ?? "\(i + 1)"): pattern_type \(patternType) is not imported"))
                continue
            }
            switch STIXPattern.comparisons(pattern) {
            case let .success(list):
                for (path, value) in list {
                    guard let t = STIXPattern.iocType(path: path, value: value) else {
                        problems.append(ImportProblem(line: 0, message: "indicator \(o["id"] as? String ?? "\(i + 1)"): \(path) is not a supported object path"))
                        continue
                    }
                    let v = normalise(t, value)
                    if let reason = invalidReason(t, v) {
                        problems.append(ImportProblem(line: 0, message: "indicator \(o["id"] as? String ?? "\(i + 1)"): \(reason)"))
                        continue
                    }
                    let confidence = (o["confidence"] as? Int)
                    iocs.append(ImportedIOC(type: t, value: v, description: name, score: confidence))
                }
            case let .failure(reason):
                problems.append(ImportProblem(line: 0, message: "indicator \(o["id"] as? String ?? "\(i + 1)"): \(reason)"))
            }
        }
        return Result(format: .stix, iocs: iocs, problems: problems, suggestedName: nil)
    }

    /// MISP attribute types and the kinds they map to; composite `a|b` types yield two values.
    static func mispType(_ t: String) -> (IOCType, IOCType?)? {
        switch t {
        case "sha256": (.sha256, nil)
        case "sha1": (.sha1, nil)
        case "md5": (.md5, nil)
        case "filename": (.fileName, nil)
        case "filename|sha256": (.fileName, .sha256)
        case "filename|sha1": (.fileName, .sha1)
        case "filename|md5": (.fileName, .md5)
        case "ip-src", "ip-dst": (.ipv4, nil)
        case "ip-src|port", "ip-dst|port": (.ipv4, nil)
        case "domain", "hostname": (.domain, nil)
        case "domain|ip": (.domain, .ipv4)
        case "url", "link": (.url, nil)
        case "uri": (.url, nil)
        case "user-agent": (.userAgent, nil)
        case "yara": (.yaraRule, nil)
        default: nil
        }
    }

    static func parseMISP(_ data: Data, fileName: String) throws -> Result {
        let root = try jsonObject(data, fileName: fileName)
        var events: [[String: Any]] = []
        func collect(_ any: Any) {
            if let d = any as? [String: Any] {
                if let e = d["Event"] as? [String: Any] { events.append(e) }
                else if d["Attribute"] != nil || d["Object"] != nil { events.append(d) }
                else if let r = d["response"] { collect(r) }
            } else if let a = any as? [Any] {
                for x in a { collect(x) }
            }
        }
        collect(root)
        guard !events.isEmpty else {
            throw IndicatorImportError.malformed(file: fileName, line: 1, column: 1, message: "no MISP \"Event\" with attributes found")
        }
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        for event in events {
            var attributes = (event["Attribute"] as? [Any]) ?? []
            for object in (event["Object"] as? [Any]) ?? [] {
                if let o = object as? [String: Any], let a = o["Attribute"] as? [Any] { attributes += a }
            }
            for (i, any) in attributes.enumerated() {
                guard let a = any as? [String: Any], let type = a["type"] as? String, let value = a["value"] as? String else {
                    problems.append(ImportProblem(line: 0, message: "attribute \(i + 1): no type or value"))
                    continue
                }
                if let deleted = a["deleted"] as? Bool, deleted { continue }
                guard let (first, second) = mispType(type.lowercased()) else {
                    problems.append(ImportProblem(line: 0, message: "attribute \(a["uuid"] as? String ?? "\(i + 1)"): type \(type) is not imported"))
                    continue
                }
                var parts = second == nil ? [value] : value.split(separator: "|", maxSplits: 1).map(String.init)
                if type.hasSuffix("|port") { parts = [String(value.split(separator: "|").first ?? "")] }
                let comment = (a["comment"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? (event["info"] as? String)
                let toIDS = (a["to_ids"] as? Bool) ?? false
                for (kind, raw) in zip([first] + (second.map { [$0] } ?? []), parts) {
                    var t = kind
                    if t == .ipv4 && isIPv6(raw) { t = .ipv6 }
                    if t == .fileName && (raw.contains("\\") || raw.contains("/")) { t = .filePath }
                    let v = normalise(t, raw)
                    if let reason = invalidReason(t, v) {
                        problems.append(ImportProblem(line: 0, message: "attribute \(a["uuid"] as? String ?? "\(i + 1)"): \(reason)"))
                        continue
                    }
                    iocs.append(ImportedIOC(type: t, value: v, description: comment, score: toIDS ? 75 : nil))
                }
            }
        }
        let name = events.count == 1 ? events[0]["info"] as? String : nil
        return Result(format: .misp, iocs: iocs, problems: problems, suggestedName: name)
    }

    static func parseOwnExport(_ data: Data, fileName: String) throws -> Result {
        _ = try jsonObject(data, fileName: fileName)
        do {
            let export = try JSONCoding.decoder().decode(IndicatorExportFile.self, from: data)
            return Result(format: .incidentJSON, iocs: export.indicators, problems: [], suggestedName: export.name)
        } catch {
            throw IndicatorImportError.malformed(file: fileName, line: 1, column: 1, message: "not an incident indicator export: \(error)")
        }
    }

    // MARK: - CHIRP

    /// CHIRP documents: `ioc_type: network` gives `indicator.ips` (one per line); `yara` rules
    /// aimed at IIS, ECP or OAB log files give their strings as `log-string` / `log-regex`
    /// indicators for that format; `yara` rules aimed at files give `yara-rule`; `events`
    /// (event-log queries) are reported as not imported.
    static func parseCHIRP(_ data: Data, fileName: String) throws -> Result {
        let text = decode(data)
        var iocs: [ImportedIOC] = []
        var problems: [ImportProblem] = []
        var documents: [Any?] = []
        do {
            // Document by document, so that a syntax error anywhere is thrown, not swallowed.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { documents.append(node.any) }
        } catch let error as YamlError {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _):
                throw IndicatorImportError.malformed(file: fileName, line: mark.line, column: mark.column,
                                                     message: [context?.description, problem].compactMap { $0 }.joined(separator: ": "))
            default:
                throw IndicatorImportError.malformed(file: fileName, line: 1, column: 1, message: "\(error)")
            }
        } catch {
            throw IndicatorImportError.malformed(file: fileName, line: 1, column: 1, message: "\(error)")
        }
        // Line numbers of each document's start, for messages.
        var starts: [Int] = []
        for (n, line) in numberedLines(text) where line.hasPrefix("---") { starts.append(n + 1) }
        for (i, any) in documents.enumerated() {
            let line = i < starts.count ? starts[i] : 0
            guard let doc = any as? [String: Any] else { continue }
            let name = (doc["name"] as? String) ?? "CHIRP indicator \(i + 1)"
            let score = (doc["confidence"] as? Int).map { min(100, $0 * 10) }
            let kind = (doc["ioc_type"] as? String)?.lowercased() ?? ""
            let indicator = doc["indicator"] as? [String: Any] ?? [:]
            switch kind {
            case "network":
                let ips = (indicator["ips"] as? String) ?? ""
                for raw in ips.split(whereSeparator: \.isNewline) {
                    let v = String(raw).trimmingCharacters(in: .whitespaces)
                    if v.isEmpty { continue }
                    let t: IOCType? = isIPv4(v) ? .ipv4 : isIPv6(v) ? .ipv6 : isDomain(v) ? .domain : nil
                    guard let t else {
                        problems.append(ImportProblem(line: line, message: "\(name): \"\(clip(v))\" is not an IP address"))
                        continue
                    }
                    iocs.append(ImportedIOC(type: t, value: normalise(t, v), description: name, score: score, line: line))
                }
            case "yara":
                let files = ((indicator["files"] as? String) ?? "").lowercased()
                guard let rule = indicator["rule"] as? String else {
                    problems.append(ImportProblem(line: line, message: "\(name): yara indicator without a rule"))
                    continue
                }
                let scope: EvidenceFormat? =
                    files.contains("inetpub\\logs") ? .iisW3C :
                    files.contains("logging\\ecp") ? .ecpServer :
                    files.contains("oabgeneratorlog") ? .oabGenerator :
                    files.contains("logging\\httpproxy") ? .httpProxy : nil
                if let scope {
                    let strings = YaraStrings.extract(rule)
                    if strings.unsupported > 0 || strings.items.isEmpty {
                        problems.append(ImportProblem(line: line, message: "\(name): \(strings.unsupported) YARA string(s) of a kind that cannot be matched on log lines were skipped"))
                    }
                    for item in strings.items {
                        iocs.append(ImportedIOC(type: item.isRegex ? .logRegex : .logString, value: item.value,
                                                description: name, score: score, scope: scope, line: line))
                    }
                } else {
                    iocs.append(ImportedIOC(type: .yaraRule, value: rule, description: name, score: score, line: line))
                }
            case "events":
                problems.append(ImportProblem(line: line, message: "\(name): event-log queries (ioc_type events) are not imported"))
            default:
                problems.append(ImportProblem(line: line, message: "\(name): ioc_type \"\(kind)\" is not imported"))
            }
        }
        return Result(format: .chirpYAML, iocs: iocs, problems: problems)
    }
}

/// Pulls the `$name = "text"` and `$name = /regex/` strings out of a YARA rule's `strings:`
/// section, so rules that CHIRP aims at log files can be matched line by line.
enum YaraStrings {
    struct Item: Equatable {
        var value: String
        var isRegex: Bool
    }

    /// The strings, and how many were of a kind not usable on lines (hex strings, modifiers
    /// other than `nocase`/`ascii`/`wide`).
    static func extract(_ rule: String) -> (items: [Item], unsupported: Int) {
        var items: [Item] = []
        var unsupported = 0
        var inStrings = false
        for raw in rule.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let lower = line.lowercased()
            if lower.hasPrefix("strings:") { inStrings = true; continue }
            if lower.hasPrefix("condition:") || lower.hasPrefix("meta:") { inStrings = false; continue }
            guard inStrings, line.hasPrefix("$"), let eq = line.firstIndex(of: "=") else { continue }
            let rhs = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if rhs.hasPrefix("\"") {
                var value = ""
                var escaped = false
                var closed = false
                for ch in rhs.dropFirst() {
                    if escaped {
                        switch ch {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: value.append(ch)
                        }
                        escaped = false
                    } else if ch == "\\" {
                        escaped = true
                    } else if ch == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(ch)
                    }
                }
                if closed && !value.isEmpty { items.append(Item(value: value, isRegex: false)) } else { unsupported += 1 }
            } else if rhs.hasPrefix("/"), let end = rhs.lastIndex(of: "/"), end != rhs.startIndex {
                let body = String(rhs[rhs.index(after: rhs.startIndex)..<end])
                if (try? NSRegularExpression(pattern: body)) != nil { items.append(Item(value: body, isRegex: true)) } else { unsupported += 1 }
            } else {
                unsupported += 1
            }
        }
        return (items, unsupported)
    }
}
