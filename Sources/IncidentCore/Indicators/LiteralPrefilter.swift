import CHyperscan
import Foundation

/// Finds the lines of a log chunk that could hold a hit, without parsing them.
///
/// For every indicator of a format, one of its positive conditions yields a set of literal
/// strings of which any matching line must contain at least one (case-insensitively): the operand
/// of `equals`/`contains`/`startsWith`/`endsWith`, the longest literal run of a `like` pattern, the
/// members of an `inList`/`domainInList`/`fileNameInList` list, the longest word of each user agent
/// of a `userAgentInList` list, the longest literal run a `regex` cannot match without. All the
/// formats' literals go into one Hyperscan database (Debian `libhyperscan-dev`,
/// https://intel.github.io/hyperscan/dev-reference/), which scans a whole chunk of lines at once.
/// A line none of them occurs in cannot satisfy any indicator, so the scanner only counts it and
/// reads its time (see `EvidenceScanner`); every other line is parsed and matched as before.
///
/// The argument holds for lines of ASCII text only (a value with other characters is lowercased
/// with Unicode rules, which can turn a non-ASCII letter into an ASCII one): the scanner sends
/// every line with a byte ≥ 0x80 down the full path. It also needs each condition's value to be a
/// substring of the line: true of the columns of HttpProxy CSV (a quote doubled inside a quoted
/// value is searched in both spellings) and of IIS W3C (whose derived `cs-uri` joins stem and
/// query with `?`: its literals are cut at `?`). A format with an indicator that yields no literal
/// (a lone regex with no literal run, a predicate, a negation, `empty`) gets no prefilter.
///
/// Immutable after creation; ``candidateEnds(_:)`` may run on several threads at once (each scan
/// takes its own Hyperscan scratch space from a pool).
public final class LiteralPrefilter: @unchecked Sendable {
    /// The literals searched for, lowercased, in the order of their Hyperscan ids.
    public let literals: [String]
    private let database: OpaquePointer
    private let lock = NSLock()
    private var scratches: [OpaquePointer] = []

    /// Compiles the literals (at least one, none empty, none holding CR or LF).
    /// - Returns: nil when Hyperscan refuses them (the caller then parses every line).
    init?(literals: [String]) {
        guard !literals.isEmpty, !literals.contains(where: { $0.isEmpty || $0.contains("\n") || $0.contains("\r") }) else { return nil }
        self.literals = literals
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        // One buffer holds every literal; the pointer array points into it.
        let flat = literals.flatMap { Array($0.utf8) }.map { CChar(bitPattern: $0) }
        var lengths = literals.map(\.utf8.count)
        var flags = [UInt32](repeating: inc_hs_flag_caseless(), count: literals.count)
        var ids = (0..<literals.count).map { UInt32($0) }
        let status: hs_error_t = flat.withUnsafeBufferPointer { base in
            var pointers: [UnsafePointer<CChar>?] = []
            var at = 0
            for n in lengths {
                pointers.append(base.baseAddress! + at)
                at += n
            }
            return hs_compile_lit_multi(pointers, &flags, &ids, &lengths, UInt32(literals.count), inc_hs_mode_block(), nil, &db, &compileError)
        }
        if let compileError { hs_free_compile_error(compileError) }
        guard status == inc_hs_success(), let db else { return nil }
        database = db
        var scratch: OpaquePointer?
        guard hs_alloc_scratch(db, &scratch) == inc_hs_success(), let scratch else {
            hs_free_database(db)
            return nil
        }
        scratches = [scratch]
    }

    deinit {
        for s in scratches { hs_free_scratch(s) }
        hs_free_database(database)
    }

    private final class Ends {
        var offsets: [Int] = []
        var sorted = true
    }

    /// The end offsets (exclusive, from the start of `bytes`) of every occurrence of a literal,
    /// ascending. A literal never spans a line break, so a line `[start, stop)` holds one exactly
    /// when some offset `e` has `start < e <= stop`.
    /// - Returns: nil when the scan failed (the caller then parses every line).
    public func candidateEnds(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int]? {
        guard let base = bytes.baseAddress, bytes.count <= Int(UInt32.max) else { return bytes.isEmpty ? [] : nil }
        guard let scratch = takeScratch() else { return nil }
        defer { putScratch(scratch) }
        let ends = Ends()
        let status = withExtendedLifetime(ends) {
            hs_scan(database, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), UInt32(bytes.count), 0, scratch, { _, _, to, _, context in
                let ends = Unmanaged<Ends>.fromOpaque(context!).takeUnretainedValue()
                let end = Int(to)
                if let last = ends.offsets.last {
                    if last == end { return 0 }
                    if last > end { ends.sorted = false }
                }
                ends.offsets.append(end)
                return 0
            }, Unmanaged.passUnretained(ends).toOpaque())
        }
        guard status == inc_hs_success() else { return nil }
        if !ends.sorted { ends.offsets.sort() }
        return ends.offsets
    }

    private func takeScratch() -> OpaquePointer? {
        lock.lock()
        let pooled = scratches.popLast()
        lock.unlock()
        if let pooled { return pooled }
        // All in use: make another (kept in the pool afterwards).
        var fresh: OpaquePointer?
        guard hs_alloc_scratch(database, &fresh) == inc_hs_success() else { return nil }
        return fresh
    }

    private func putScratch(_ s: OpaquePointer) {
        lock.lock()
        scratches.append(s)
        lock.unlock()
    }
}

/// Required literals of indicators (see ``LiteralPrefilter``).
enum RequiredLiterals {
    /// The formats whose lines are raw text the prefilter's argument holds for.
    static let formats: Set<EvidenceFormat> = [.httpProxy, .iisW3C]

    /// For one indicator, the literals of which a matching line must hold one, or nil when none
    /// of its conditions yields such a set. Picks the condition whose shortest literal is longest
    /// (the rarest, as a rule), then the one with fewer literals.
    static func of(_ indicator: Indicator, format: EvidenceFormat, lists: [String: [String]],
                   patternLists: [String: [PatternEntry]] = [:]) -> [String]? {
        var best: [String]?
        var bestScore = (0, 0)
        for c in indicator.all {
            guard var set = literals(c, lists: lists, patternLists: patternLists) else { continue }
            if format == .iisW3C && c.field.lowercased() == "cs-uri" {
                set = set.map { $0.split(separator: "?", omittingEmptySubsequences: false).map(String.init).max { $0.utf8.count < $1.utf8.count } ?? "" }
            }
            if format == .httpProxy { set += set.filter { $0.contains("\"") }.map { $0.replacingOccurrences(of: "\"", with: "\"\"") } }
            guard !set.isEmpty, !set.contains(where: { $0.isEmpty || $0.contains("\n") || $0.contains("\r") }) else { continue }
            let score = (set.map(\.utf8.count).min() ?? 0, -set.count)
            if best == nil || score > bestScore {
                best = set
                bestScore = score
            }
        }
        return best.map { Array(Set($0)).sorted() }
    }

    /// The literal set of one condition, or nil when it has none (negations, regexes without a
    /// literal run, predicates, `empty`, pattern lists with a regex that has none).
    static func literals(_ c: Condition, lists: [String: [String]], patternLists: [String: [PatternEntry]] = [:]) -> [String]? {
        let values = c.values.map { RuleEngine.asciiLowercased($0) }
        switch c.op {
        case .equals, .contains, .startsWith, .endsWith:
            return values.first.map { [$0] }
        case .containsAny, .startsWithAny, .endsWithAny:
            return values.isEmpty ? nil : values
        case .like, .likeAny:
            let runs = (c.op == .like ? Array(values.prefix(1)) : values).map(longestWildcardRun)
            return runs.isEmpty ? nil : runs
        case .inList, .domainInList, .fileNameInList:
            guard let members = lists[c.values.first ?? ""], !members.isEmpty else { return nil }
            return members.map { RuleEngine.asciiLowercased($0) }
        case .userAgentInList:
            guard let members = lists[c.values.first ?? ""], !members.isEmpty else { return nil }
            return members.map { ua in
                UserAgent.normalize(ua).split(separator: " ").map(String.init).max { $0.utf8.count < $1.utf8.count } ?? ""
            }
        case .regex:
            return requiredRegexRun(c.values.first ?? "").map { [$0] }
        case .regexInList:
            // Any pattern of the list may match (an exclusion only removes matches).
            guard let entries = patternLists[c.values.first ?? ""], !entries.isEmpty else { return nil }
            var runs: [String] = []
            for e in entries {
                guard let run = requiredRegexRun(e.pattern) else { return nil }
                runs.append(run)
            }
            return runs
        case .notLike, .notLikeAny, .notEquals, .notContains, .notInList, .empty, .predicate, .fileNameNotInList:
            return nil
        }
    }

    /// The longest run of a `-like` pattern without `*` or `?`.
    static func longestWildcardRun(_ pattern: String) -> String {
        pattern.split(omittingEmptySubsequences: false) { $0 == "*" || $0 == "?" }.map(String.init)
            .max { $0.utf8.count < $1.utf8.count } ?? ""
    }

    /// The longest run of plain characters every match of `pattern` (an ICU regular expression,
    /// matched case-insensitively) must contain, lowercased; nil when the pattern has top-level
    /// alternation, inline options other than a leading `(?i)`, or no run of two characters or
    /// more. Groups, classes and escapes such as `\d` end a run; a character made optional by `?`,
    /// `*` or `{0,…}` is dropped.
    static func requiredRegexRun(_ pattern: String) -> String? {
        var p = Array(pattern.unicodeScalars)
        if pattern.hasPrefix("(?i)") { p.removeFirst(4) }
        if String(String.UnicodeScalarView(p)).contains("(?") { return nil }
        var runs: [String] = []
        var run = ""
        var lastWasLiteral = false
        func flush() {
            if !run.isEmpty { runs.append(run) }
            run = ""
        }
        var i = 0
        while i < p.count {
            let c = p[i]
            switch c {
            case "\\":
                guard i + 1 < p.count else { return nil }
                let e = p[i + 1]
                if e.properties.isAlphabetic || ("0"..."9").contains(e) {
                    flush()
                    lastWasLiteral = false
                } else {
                    run.unicodeScalars.append(e)
                    lastWasLiteral = true
                }
                i += 2
            case "[":
                flush()
                lastWasLiteral = false
                var j = i + 1
                if j < p.count, p[j] == "^" { j += 1 }
                if j < p.count, p[j] == "]" { j += 1 }
                var depth = 1
                while j < p.count, depth > 0 {
                    if p[j] == "\\" { j += 2; continue }
                    if p[j] == "[" { depth += 1 } else if p[j] == "]" { depth -= 1 }
                    j += 1
                }
                guard depth == 0 else { return nil }
                i = j
            case "(":
                flush()
                lastWasLiteral = false
                var j = i + 1
                var depth = 1
                while j < p.count, depth > 0 {
                    if p[j] == "\\" { j += 2; continue }
                    if p[j] == "[" {
                        // A class may hold parentheses.
                        j += 1
                        while j < p.count, p[j] != "]" { j += p[j] == "\\" ? 2 : 1 }
                    } else if p[j] == "(" { depth += 1 } else if p[j] == ")" { depth -= 1 }
                    j += 1
                }
                guard depth == 0 else { return nil }
                i = j
            case "|", ")":
                return nil
            case "?", "*":
                if lastWasLiteral, !run.isEmpty { run.unicodeScalars.removeLast() }
                flush()
                lastWasLiteral = false
                i += 1
            case "+":
                flush()
                lastWasLiteral = false
                i += 1
            case "{":
                var j = i + 1
                var digits = ""
                while j < p.count, ("0"..."9").contains(p[j]) { digits.unicodeScalars.append(p[j]); j += 1 }
                while j < p.count, p[j] == "," || ("0"..."9").contains(p[j]) { j += 1 }
                guard j < p.count, p[j] == "}", let minimum = Int(digits) else { return nil }
                if minimum == 0, lastWasLiteral, !run.isEmpty { run.unicodeScalars.removeLast() }
                flush()
                lastWasLiteral = false
                i = j + 1
            case ".", "^", "$":
                flush()
                lastWasLiteral = false
                i += 1
            default:
                run.unicodeScalars.append(c)
                lastWasLiteral = true
                i += 1
            }
        }
        flush()
        guard let longest = runs.max(by: { $0.utf8.count < $1.utf8.count }), longest.utf8.count >= 2 else { return nil }
        return RuleEngine.asciiLowercased(longest)
    }
}
