import Foundation

/// Errors raised when an indicator pack cannot be used.
public enum IndicatorPackError: Error, CustomStringConvertible, Equatable {
    /// The pack's JSON is malformed: file, 1-based line and column, and the parser's message.
    case malformed(file: String, line: Int, column: Int, message: String)
    /// An indicator refers to a list the pack does not define.
    case unknownList(indicator: String, list: String)
    /// An indicator names a predicate this build does not implement.
    case unknownPredicate(indicator: String, predicate: String)
    /// A `regex` condition does not compile.
    case badRegex(indicator: String, pattern: String)
    /// Two indicators share an id.
    case duplicateID(String)

    public var description: String {
        switch self {
        case let .malformed(file, line, column, message): "\(file):\(line):\(column): \(message)"
        case let .unknownList(indicator, list): "indicator \(indicator): unknown list \"\(list)\""
        case let .unknownPredicate(indicator, predicate): "indicator \(indicator): unknown predicate \"\(predicate)\""
        case let .badRegex(indicator, pattern): "indicator \(indicator): regex does not compile: \(pattern)"
        case let .duplicateID(id): "duplicate indicator id \(id)"
        }
    }
}

/// An indicator pack compiled for matching: lists become sets, patterns are lowercased once,
/// regexes are compiled once. Immutable and safe to share across threads.
public struct RuleEngine: Sendable {
    public let pack: IndicatorPack
    /// YARA rules for collected files that came with the case's enabled imported packs (CHIRP's
    /// web-shell rules), compiled with the built-in and `rules/` ones (see ``ContentRules``).
    public internal(set) var importedContentRules: [ContentRuleSource] = []
    private let compiled: [EvidenceFormat: [CompiledIndicator]]
    /// Distinct condition fields per format (conditions carry their ordinal).
    private let fieldCounts: [EvidenceFormat: Int]
    /// Line prefilters per format, for the formats every indicator of which yields literals.
    private let prefilters: [EvidenceFormat: LiteralPrefilter]

    /// Lowercases ASCII without Unicode tables when the text is ASCII; full lowercasing otherwise.
    static func asciiLowercased(_ s: String) -> String {
        var s = s
        let ascii = s.withUTF8 { b in !b.contains { $0 >= 0x80 } }
        guard ascii else { return s.lowercased() }
        let hasUpper = s.withUTF8 { b in b.contains { $0 >= 0x41 && $0 <= 0x5A } }
        guard hasUpper else { return s }
        return s.withUTF8 { b in
            String(unsafeUninitializedCapacity: b.count) { out in
                for i in 0..<b.count { let c = b[i]; out[i] = (c >= 0x41 && c <= 0x5A) ? c + 32 : c }
                return b.count
            }
        }
    }

    /// Compiles a pack.
    /// - Parameter literalPrefilter: build the per-format line prefilters (see
    ///   ``LiteralPrefilter``); false makes the scanner parse every line (for equivalence tests
    ///   and comparisons). Defaults to ``prefilterByDefault``.
    /// - Throws: ``IndicatorPackError`` for unknown lists or predicates, bad regexes, duplicate ids.
    public init(pack: IndicatorPack, literalPrefilter: Bool = RuleEngine.prefilterByDefault) throws {
        self.pack = pack
        var seen = Set<String>()
        var lists: [String: Set<String>] = [:]
        for (name, values) in pack.lists { lists[name] = Set(values.map { $0.lowercased() }) }
        var regexSets: [String: RegexSet] = [:]
        for (name, patterns) in pack.patternLists ?? [:] {
            do { regexSets[name] = try RegexSet(patterns) } catch let RegexSet.RegexSetError.badPattern(p) {
                throw IndicatorPackError.badRegex(indicator: "list " + name, pattern: p)
            }
        }
        var byFormat: [EvidenceFormat: [CompiledIndicator]] = [:]
        var ordinals: [EvidenceFormat: [String: Int]] = [:]
        for indicator in pack.indicators {
            guard seen.insert(indicator.id).inserted else { throw IndicatorPackError.duplicateID(indicator.id) }
            // All conditions must hold, so their order is free: cheap tests first, regexes and
            // predicates last (stable among equals).
            let conditions = try indicator.all.map { try CompiledCondition($0, indicator: indicator.id, lists: lists, regexSets: regexSets) }
                .enumerated().sorted { ($0.element.costly ? 1 : 0, $0.offset) < ($1.element.costly ? 1 : 0, $1.offset) }.map(\.element)
            for format in indicator.formats {
                let numbered = conditions.map { c -> CompiledCondition in
                    var c = c
                    if let k = ordinals[format]?[c.field] { c.ordinal = k } else {
                        let k = ordinals[format]?.count ?? 0
                        ordinals[format, default: [:]][c.field] = k
                        c.ordinal = k
                    }
                    return c
                }
                byFormat[format, default: []].append(CompiledIndicator(indicator: indicator, conditions: numbered))
            }
        }
        self.compiled = byFormat
        self.fieldCounts = ordinals.mapValues(\.count)
        var prefilters: [EvidenceFormat: LiteralPrefilter] = [:]
        if literalPrefilter {
            for format in RequiredLiterals.formats {
                var requirements: [[[[Piece]]]] = []
                var complete = true
                for c in byFormat[format, default: []] {
                    guard let r = RequiredLiterals.requirement(c.indicator, format: format, lists: pack.lists, patternLists: pack.patternLists ?? [:]) else {
                        complete = false
                        break
                    }
                    requirements.append(r)
                }
                if complete, let p = LiteralPrefilter(requirements: requirements, separators: RequiredLiterals.separators(format)) {
                    prefilters[format] = p
                }
            }
        }
        self.prefilters = prefilters
    }

    /// True unless the environment variable `INCIDENT_SCAN_PREFILTER` is `off`: a responder who
    /// doubts a result can scan with every line parsed (slower, same results).
    public static var prefilterByDefault: Bool {
        ProcessInfo.processInfo.environment["INCIDENT_SCAN_PREFILTER"]?.lowercased() != "off"
    }

    /// The line prefilter of a format, or nil when every line must be parsed (see ``LiteralPrefilter``).
    public func prefilter(for format: EvidenceFormat) -> LiteralPrefilter? { prefilters[format] }

    /// The built-in pack shipped in the package (`Sources/IncidentCore/Resources/indicators.json`).
    public static func builtIn() throws -> RuleEngine {
        try RuleEngine(pack: BuiltInData.indicatorPack())
    }

    /// Indicators that apply to a format.
    public func indicators(for format: EvidenceFormat) -> [Indicator] {
        compiled[format, default: []].map(\.indicator)
    }

    /// Every indicator of `format` that the record satisfies.
    public func match(_ record: LogRecord, format: EvidenceFormat) -> [Indicator] {
        guard let candidates = compiled[format] else { return [] }
        // Each field is looked up and lowercased at most once per record: a slot per field
        // ordinal of this format (0 = not yet looked up, 1 = absent, 2 = present).
        let count = fieldCounts[format] ?? 0
        var state = [UInt8](repeating: 0, count: count)
        var values = [String](repeating: "", count: count)
        func lower(_ c: CompiledCondition) -> String? {
            let k = c.ordinal
            if state[k] == 0 {
                if let v = record.value(lowercased: c.field) {
                    values[k] = Self.asciiLowercased(v)
                    state[k] = 2
                } else {
                    state[k] = 1
                }
            }
            return state[k] == 2 ? values[k] : nil
        }
        var out: [Indicator] = []
        for candidate in candidates where candidate.conditions.allSatisfy({ $0.holds(lower($0)) }) {
            out.append(candidate.indicator)
        }
        return out
    }
}

/// A class, so that walking the candidates retains one reference instead of every field of the indicator.
private final class CompiledIndicator: Sendable {
    let indicator: Indicator
    let conditions: [CompiledCondition]
    init(indicator: Indicator, conditions: [CompiledCondition]) {
        self.indicator = indicator
        self.conditions = conditions
    }
}

/// `NSRegularExpression` is immutable after creation and documented thread-safe.
private struct SendableRegex: @unchecked Sendable {
    let regex: NSRegularExpression
}

private struct CompiledCondition: Sendable {
    enum Test: Sendable {
        case like([WildcardPattern], negate: Bool)
        case equals(String, negate: Bool)
        case contains([String], negate: Bool)
        case startsWith([String])
        case endsWith([String])
        case inSet(Set<String>, negate: Bool)
        case ipIn(Set<String>, negate: Bool)
        case userAgentIn(Set<String>)
        case regex(SendableRegex)
        case empty(Bool)
        case predicate(@Sendable (String) -> Bool)
        case regexSet(RegexSet)
        case domainIn(Set<String>)
        case fileNameIn(Set<String>, negate: Bool)
    }

    let field: String
    let test: Test
    /// Position of `field` among the distinct condition fields of the format being matched.
    var ordinal = 0

    /// Regexes and predicates cost more than the other tests.
    var costly: Bool {
        switch test {
        case .regex, .predicate: true
        default: false
        }
    }

    init(_ c: Condition, indicator: String, lists: [String: Set<String>], regexSets: [String: RegexSet]) throws {
        field = c.field.lowercased()
        let values = c.values.map { $0.lowercased() }
        let first = values.first ?? ""
        switch c.op {
        case .like: test = .like([WildcardPattern(first)], negate: false)
        case .notLike: test = .like([WildcardPattern(first)], negate: true)
        case .likeAny: test = .like(values.map(WildcardPattern.init), negate: false)
        case .notLikeAny: test = .like(values.map(WildcardPattern.init), negate: true)
        case .equals: test = .equals(first, negate: false)
        case .notEquals: test = .equals(first, negate: true)
        case .contains: test = .contains([first], negate: false)
        case .notContains: test = .contains([first], negate: true)
        case .containsAny: test = .contains(values, negate: false)
        case .startsWith: test = .startsWith([first])
        case .startsWithAny: test = .startsWith(values)
        case .endsWith: test = .endsWith([first])
        case .endsWithAny: test = .endsWith(values)
        case .fileNameInList, .fileNameNotInList:
            guard let set = lists[c.values.first ?? ""] else {
                throw IndicatorPackError.unknownList(indicator: indicator, list: c.values.first ?? "")
            }
            test = .fileNameIn(set, negate: c.op == .fileNameNotInList)
        case .inList, .notInList, .userAgentInList, .domainInList:
            guard let set = lists[c.values.first ?? ""] else {
                throw IndicatorPackError.unknownList(indicator: indicator, list: c.values.first ?? "")
            }
            switch c.op {
            case .userAgentInList: test = .userAgentIn(Set(set.map(UserAgent.normalize)))
            case .domainInList: test = .domainIn(set)
            case .notInList, .inList:
                // A list of addresses is matched on their canonical text (see ``IPAddressText``).
                if let addresses = IPAddressText.canonicalSet(set) {
                    test = .ipIn(addresses, negate: c.op == .notInList)
                } else {
                    test = .inSet(set, negate: c.op == .notInList)
                }
            default: test = .inSet(set, negate: false)
            }
        case .regex:
            guard let re = try? NSRegularExpression(pattern: c.values.first ?? "", options: [.caseInsensitive]) else {
                throw IndicatorPackError.badRegex(indicator: indicator, pattern: c.values.first ?? "")
            }
            test = .regex(SendableRegex(regex: re))
        case .empty: test = .empty(c.flag)
        case .predicate:
            guard let p = Predicates.named[c.values.first ?? ""] else {
                throw IndicatorPackError.unknownPredicate(indicator: indicator, predicate: c.values.first ?? "")
            }
            test = .predicate(p)
        case .regexInList:
            guard let set = regexSets[c.values.first ?? ""] else {
                throw IndicatorPackError.unknownList(indicator: indicator, list: c.values.first ?? "")
            }
            test = .regexSet(set)
        }
    }

    /// Regexes look at no more than this many UTF-16 units of a value, so a 10 MB line stays cheap.
    static let regexWindow = 65_536

    /// Whether the condition holds for the (lowercased) field value; an absent field fails every
    /// positive test and passes negative ones only for `notLike`/`notEquals`/`notContains`/`notInList`.
    func holds(_ value: String?) -> Bool {
        switch test {
        case let .empty(wantEmpty):
            let isEmpty = value.map { $0.isEmpty || $0 == "-" } ?? true
            return isEmpty == wantEmpty
        default: break
        }
        guard let value else {
            switch test {
            case .like(_, true), .equals(_, true), .contains(_, true), .inSet(_, true), .ipIn(_, true): return true
            default: return false
            }
        }
        switch test {
        case let .like(patterns, negate):
            let any = patterns.contains { $0.matches(value) }
            return negate ? !any : any
        case let .equals(s, negate): return (value == s) != negate
        case let .contains(needles, negate):
            let any = needles.contains { ByteSearch.contains(value, $0) }
            return negate ? !any : any
        case let .startsWith(prefixes): return prefixes.contains { value.hasPrefix($0) }
        case let .endsWith(suffixes): return suffixes.contains { value.hasSuffix($0) }
        case let .inSet(set, negate): return set.contains(value) != negate
        case let .ipIn(set, negate): return set.contains(IPAddressText.lookupForm(value)) != negate
        case let .userAgentIn(set): return set.contains(UserAgent.normalize(value))
        case let .regex(r):
            let ns = value as NSString
            let range = NSRange(location: 0, length: min(ns.length, Self.regexWindow))
            return r.regex.firstMatch(in: value, options: [], range: range) != nil
        case let .predicate(p): return p(value)
        case let .regexSet(set): return set.matches(value)
        case let .domainIn(set):
            // A host header may carry a port (`mail.example.com:443`) and a trailing dot.
            var host = Substring(value)
            if let colon = host.lastIndex(of: ":"), !host.contains("]"), host.filter({ $0 == ":" }).count == 1 { host = host[..<colon] }
            if host.hasSuffix(".") { host = host.dropLast() }
            while !host.isEmpty {
                if set.contains(String(host)) { return true }
                guard let dot = host.firstIndex(of: ".") else { return false }
                host = host[host.index(after: dot)...]
            }
            return false
        case let .fileNameIn(set, negate):
            let name = value.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? ""
            guard !name.isEmpty else { return false }
            return set.contains(name) != negate
        case .empty: return false
        }
    }
}

/// Substring search on UTF-8 bytes (`memchr` for the first byte, `memcmp` for the rest), much
/// cheaper than `String.contains` here.
enum ByteSearch {
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        var h = haystack
        var n = needle
        return h.withUTF8 { hb in
            n.withUTF8 { nb in
                guard nb.count <= hb.count, let hp = hb.baseAddress, let np = nb.baseAddress else { return false }
                let last = hb.count - nb.count
                var i = 0
                while i <= last {
                    guard let found = memchr(hp + i, Int32(np[0]), last - i + 1) else { return false }
                    let at = UnsafeRawPointer(hp).distance(to: UnsafeRawPointer(found))
                    if memcmp(hp + at, np, nb.count) == 0 { return true }
                    i = at + 1
                }
                return false
            }
        }
    }
}

/// User-agent spelling differences between IIS (`+` for spaces) and HttpProxy (commas written
/// as two spaces) (`../shared/knowledge/proxylogon.md` §1.0).
public enum UserAgent {
    /// Lowercased, `+` and commas turned into spaces, runs of spaces folded to one, trimmed.
    public static func normalize(_ ua: String) -> String {
        var out = ""
        out.reserveCapacity(ua.utf8.count)
        var lastSpace = false
        for ch in ua.lowercased() {
            let c: Character = (ch == "+" || ch == ",") ? " " : ch
            if c == " " {
                if !lastSpace && !out.isEmpty { out.append(" ") }
                lastSpace = true
            } else {
                out.append(c)
                lastSpace = false
            }
        }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }
}
