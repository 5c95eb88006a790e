import CHyperscan
import Foundation

/// Finds the lines of a log chunk that could hold a hit, without parsing them.
///
/// Every indicator of a format gets a requirement on the literal strings a matching line must
/// contain, case-insensitively: for each of its conditions that has literals, one of the
/// condition's alternatives must have all its pieces in the line. The pieces: the operand of
/// `equals`/`contains`/`startsWith`/`endsWith`; the runs between the wildcards of a `like`
/// pattern; the members of an `inList`/`domainInList`/`fileNameInList` list; the words of each
/// user agent of a `userAgentInList` list; the runs a `regex` (or each regex of a pattern list)
/// cannot match without. A piece that must start a value (`equals`, `startsWith`, list members,
/// the first run of a `like` pattern without a leading wildcard) is searched right after a field
/// separator (space, tab or LF in IIS W3C; comma or LF in HttpProxy CSV), which makes common short
/// values such as `POST` or `%40` selective. All the pieces go into one Hyperscan database
/// (Debian `libhyperscan-dev`, https://intel.github.io/hyperscan/dev-reference/), which scans a
/// whole chunk of lines at once; a line is a candidate when some indicator's requirement holds
/// on the pieces found in it. Any other line cannot satisfy any indicator, so the scanner only
/// counts it and reads its time (see `EvidenceScanner`); candidates are parsed and matched in full.
///
/// The argument holds for plain ASCII data lines only (a value with other characters is
/// lowercased with Unicode rules, which can turn a non-ASCII letter into an ASCII one; a quoted CSV
/// value differs from its raw text), and the scanner sends every other line (a byte ≥ 0x80, a
/// quote in CSV, a CR inside the line, a directive, a line of the wrong shape) down the full path.
/// A chunk's first line is judged behind the LF that ends the line before it (see
/// ``candidateLineEnds(_:precededByLF:)``); without one (a file's first line, a line after a lone CR)
/// it goes down the full path. The derived IIS field `cs-uri` (stem `?` query) has its pieces cut at `?` and never
/// anchored. A format with an indicator none of whose conditions yields pieces (a predicate, a
/// negation, `empty`, a regex with top-level alternation) gets no prefilter.
///
/// Immutable after creation; ``candidateLineEnds(_:precededByLF:)`` may run on several threads at once (each
/// scan takes its own Hyperscan scratch space from a pool).
public final class LiteralPrefilter: @unchecked Sendable {
    /// The Hyperscan patterns, lowercased (pieces, and anchored pieces behind each separator).
    public let literals: [String]
    /// The pieces themselves, lowercased, without separators.
    public let pieces: [String]
    /// The requirements and the match tables in flat arrays.
    private let flat: FlatRequirements
    private let database: OpaquePointer
    private let lock = NSLock()
    private var scratches: [OpaquePointer] = []

    /// Compiles the requirements of every indicator of one format.
    /// - Parameters:
    ///   - requirements: per indicator, per condition, per alternative, the pieces it needs.
    ///   - separators: the bytes a field value starts after, for anchored pieces.
    /// - Returns: nil when there is nothing to search or Hyperscan refuses the patterns (the
    ///   caller then parses every line).
    init?(requirements: [[[[Piece]]]], separators: [String]) {
        var pieceIndex: [Piece: Int32] = [:]
        var pieceList: [Piece] = []
        var numbered: [[[[Int32]]]] = []
        for r in requirements {
            numbered.append(r.map { c in c.map { a in a.map { piece in
                if let k = pieceIndex[piece] { return k }
                let k = Int32(pieceList.count)
                pieceIndex[piece] = k
                pieceList.append(piece)
                return k
            } } })
        }
        guard !pieceList.isEmpty, !pieceList.contains(where: { $0.text.isEmpty || $0.text.contains("\n") || $0.text.contains("\r") }) else { return nil }
        var patterns: [String] = []
        var pieceOf: [Int32] = []
        for (k, piece) in pieceList.enumerated() {
            for prefix in piece.anchored ? separators : [""] {
                patterns.append(prefix + piece.text)
                pieceOf.append(Int32(k))
            }
        }
        var indicatorsOf = [[Int32]](repeating: [], count: pieceList.count)
        for (i, r) in numbered.enumerated() {
            for k in Set(r.joined().joined()) { indicatorsOf[Int(k)].append(Int32(i)) }
        }
        self.literals = patterns
        self.pieces = pieceList.map(\.text)
        self.flat = FlatRequirements(pieceOf: pieceOf, indicatorsOf: indicatorsOf, requirements: numbered)
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        // One buffer holds every pattern; the pointer array points into it.
        let flat = patterns.flatMap { Array($0.utf8) }.map { CChar(bitPattern: $0) }
        var lengths = patterns.map(\.utf8.count)
        var flags = [UInt32](repeating: inc_hs_flag_caseless(), count: patterns.count)
        var ids = (0..<patterns.count).map { UInt32($0) }
        let status: hs_error_t = flat.withUnsafeBufferPointer { base in
            var pointers: [UnsafePointer<CChar>?] = []
            var at = 0
            for n in lengths {
                pointers.append(base.baseAddress! + at)
                at += n
            }
            return hs_compile_lit_multi(pointers, &flags, &ids, &lengths, UInt32(patterns.count), inc_hs_mode_block(), nil, &db, &compileError)
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

    /// The matches of one scan, grown by hand: the Hyperscan callback writes through a pointer
    /// (no array copy-on-write or exclusivity checks per match).
    private struct Matches {
        var ends: UnsafeMutablePointer<Int>
        var pieces: UnsafeMutablePointer<Int32>
        var count = 0
        var capacity: Int
        var sorted = true

        init(capacity: Int) {
            self.capacity = capacity
            ends = .allocate(capacity: capacity)
            pieces = .allocate(capacity: capacity)
        }

        mutating func append(_ end: Int, _ piece: Int32) {
            if count == capacity {
                let bigger = capacity * 2
                let e = UnsafeMutablePointer<Int>.allocate(capacity: bigger)
                let p = UnsafeMutablePointer<Int32>.allocate(capacity: bigger)
                e.update(from: ends, count: count)
                p.update(from: pieces, count: count)
                ends.deallocate()
                pieces.deallocate()
                ends = e
                pieces = p
                capacity = bigger
            }
            if count > 0, ends[count - 1] > end { sorted = false }
            ends[count] = end
            pieces[count] = piece
            count += 1
        }

        func free() {
            ends.deallocate()
            pieces.deallocate()
        }
    }

    /// The offsets of the LFs ending the lines of `bytes` on which some indicator's requirement
    /// holds, ascending. `bytes` must end with an LF. The first line is not judged (its leading
    /// separator is outside the chunk): the caller parses it whatever this says.
    /// - Returns: nil when the scan failed (the caller then parses every line).
    /// - Parameter precededByLF: the byte before `bytes` is an LF: the first line is judged too,
    ///   with that LF as its leading separator.
    public func candidateLineEnds(_ bytes: UnsafeBufferPointer<UInt8>, precededByLF: Bool) -> [Int]? {
        guard var ends = candidateLineEnds(bytes) else { return nil }
        guard precededByLF, let base = bytes.baseAddress, let firstLF = bytes.firstIndex(of: 0x0A), ends.first != firstLF else { return ends }
        // The first line again behind an LF of its own (an empty first line holds no piece).
        var behindLF = [UInt8](repeating: 0x0A, count: firstLF + 2)
        behindLF.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: 1).update(from: base, count: firstLF + 1) }
        guard let again = behindLF.withUnsafeBufferPointer({ candidateLineEnds($0) }) else { return nil }
        if again.contains(firstLF + 1) { ends.insert(firstLF, at: 0) }
        return ends
    }

    /// The LF offsets of the candidate lines, the first line not judged (see above).
    public func candidateLineEnds(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int]? {
        guard let base = bytes.baseAddress, bytes.count <= Int(UInt32.max) else { return bytes.isEmpty ? [] : nil }
        guard let scratch = takeScratch() else { return nil }
        defer { putScratch(scratch) }
        let state = UnsafeMutablePointer<Matches>.allocate(capacity: 1)
        state.initialize(to: Matches(capacity: 4096))
        defer {
            state.pointee.free()
            state.deinitialize(count: 1)
            state.deallocate()
        }
        let status = hs_scan(database, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), UInt32(bytes.count), 0, scratch, { id, _, to, _, context in
            context!.assumingMemoryBound(to: Matches.self).pointee.append(Int(to), Int32(id))
            return 0
        }, UnsafeMutableRawPointer(state))
        guard status == inc_hs_success() else { return nil }
        let found = state.pointee
        var order = Array(0..<found.count)
        if !found.sorted { order.sort { found.ends[$0] < found.ends[$1] } }
        return requirementsHold(found, order: order, base: base, count: bytes.count)
    }

    /// Groups the matches by line and keeps the lines on which a requirement holds.
    private func requirementsHold(_ found: Matches, order: [Int], base: UnsafePointer<UInt8>, count: Int) -> [Int] {
        // Stamps instead of sets: a piece, an indicator, an alternative's count or a satisfied
        // condition belongs to the current line when its stamp equals the line's generation.
        func stamps(_ n: Int) -> UnsafeMutableBufferPointer<UInt32> {
            let b = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(1, n))
            b.initialize(repeating: 0)
            return b
        }
        let pieceStamp = stamps(pieces.count), indicatorStamp = stamps(flat.indicatorCount)
        let alternativeStamp = stamps(flat.alternativeCount), alternativeSeen = stamps(flat.alternativeCount)
        let satisfied = stamps(flat.conditionCount)
        defer { for b in [pieceStamp, indicatorStamp, alternativeStamp, alternativeSeen, satisfied] { b.deallocate() } }
        var touched: [Int32] = []
        touched.reserveCapacity(64)
        var generation: UInt32 = 0
        var out: [Int] = []
        var i = 0
        let n = order.count
        flat.withBuffers { f in
            while i < n {
                let last = found.ends[order[i]] - 1 // the match's last byte: never the LF
                let lineEnd = memchr(base + last, 0x0A, count - last).map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? count
                generation += 1
                touched.removeAll(keepingCapacity: true)
                while i < n, found.ends[order[i]] - 1 < lineEnd {
                    let piece = Int(f.pieceOf[Int(found.pieces[order[i]])])
                    if pieceStamp[piece] != generation {
                        pieceStamp[piece] = generation
                        for k in Int(f.alternativesOfStart[piece])..<Int(f.alternativesOfStart[piece + 1]) {
                            let a = Int(f.alternativesOf[k])
                            if alternativeStamp[a] != generation {
                                alternativeStamp[a] = generation
                                alternativeSeen[a] = 0
                            }
                            alternativeSeen[a] += 1
                            if alternativeSeen[a] == f.alternativeSize[a] { satisfied[Int(f.alternativeCondition[a])] = generation }
                        }
                        for k in Int(f.indicatorsStart[piece])..<Int(f.indicatorsStart[piece + 1]) {
                            let ind = f.indicators[k]
                            if indicatorStamp[Int(ind)] != generation {
                                indicatorStamp[Int(ind)] = generation
                                touched.append(ind)
                            }
                        }
                    }
                    i += 1
                }
                for ind in touched where f.holds(Int(ind), satisfied, generation) {
                    out.append(lineEnd)
                    break
                }
            }
        }
        return out
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

/// The requirements in flat arrays, indexed for counting: each piece lists the alternatives it
/// belongs to, each alternative its number of distinct pieces and its condition, each condition
/// its indicator's range. A line's matched pieces count towards their alternatives; an alternative
/// whose count reaches its size satisfies its condition; an indicator holds when all its
/// conditions are satisfied. Work is per matched piece, never a walk over a condition's
/// alternatives (a list of 100 addresses is 100 alternatives).
struct FlatRequirements: Sendable {
    /// Per Hyperscan pattern, its piece.
    let pieceOf: [Int32]
    /// Per piece, the indicators that use it: `indicators[indicatorsStart[p]..<indicatorsStart[p + 1]]`.
    let indicatorsStart: [Int32]
    let indicators: [Int32]
    /// Per piece, the (global) alternatives that have it: `alternativesOf[alternativesOfStart[p]..<alternativesOfStart[p + 1]]`.
    let alternativesOfStart: [Int32]
    let alternativesOf: [Int32]
    /// Per alternative: its number of distinct pieces and its (global) condition.
    let alternativeSize: [UInt32]
    let alternativeCondition: [Int32]
    /// Per indicator, its conditions: `conditionStart[i]..<conditionStart[i + 1]`.
    let conditionStart: [Int32]
    var indicatorCount: Int { conditionStart.count - 1 }
    var conditionCount: Int { Int(conditionStart.last ?? 0) }
    var alternativeCount: Int { alternativeSize.count }

    init(pieceOf: [Int32], indicatorsOf: [[Int32]], requirements: [[[[Int32]]]]) {
        self.pieceOf = pieceOf
        var starts: [Int32] = [0]
        var list: [Int32] = []
        for ids in indicatorsOf {
            list += ids
            starts.append(Int32(list.count))
        }
        indicatorsStart = starts
        indicators = list
        var alternativesOfPiece = [[Int32]](repeating: [], count: indicatorsOf.count)
        var sizes: [UInt32] = [], conditionOf: [Int32] = [], cs: [Int32] = [0]
        var condition: Int32 = 0
        for r in requirements {
            for c in r {
                for alternative in c {
                    let distinct = Set(alternative)
                    for piece in distinct { alternativesOfPiece[Int(piece)].append(Int32(sizes.count)) }
                    sizes.append(UInt32(distinct.count))
                    conditionOf.append(condition)
                }
                condition += 1
            }
            cs.append(condition)
        }
        var astarts: [Int32] = [0], alist: [Int32] = []
        for l in alternativesOfPiece {
            alist += l
            astarts.append(Int32(alist.count))
        }
        alternativesOfStart = astarts
        alternativesOf = alist
        alternativeSize = sizes
        alternativeCondition = conditionOf
        conditionStart = cs
    }

    /// The arrays as buffers, for one walk.
    struct Buffers {
        let pieceOf, indicatorsStart, indicators, alternativesOfStart, alternativesOf, alternativeCondition, conditionStart: UnsafeBufferPointer<Int32>
        let alternativeSize: UnsafeBufferPointer<UInt32>

        /// Whether every condition of indicator `i` is satisfied on the current line.
        func holds(_ i: Int, _ satisfied: UnsafeMutableBufferPointer<UInt32>, _ generation: UInt32) -> Bool {
            for c in Int(conditionStart[i])..<Int(conditionStart[i + 1]) where satisfied[c] != generation { return false }
            return true
        }
    }

    func withBuffers<R>(_ body: (Buffers) -> R) -> R {
        pieceOf.withUnsafeBufferPointer { a in
            indicatorsStart.withUnsafeBufferPointer { b in
                indicators.withUnsafeBufferPointer { c in
                    alternativesOfStart.withUnsafeBufferPointer { d in
                        alternativesOf.withUnsafeBufferPointer { e in
                            alternativeCondition.withUnsafeBufferPointer { f in
                                conditionStart.withUnsafeBufferPointer { g in
                                    alternativeSize.withUnsafeBufferPointer { h in
                                        body(Buffers(pieceOf: a, indicatorsStart: b, indicators: c, alternativesOfStart: d, alternativesOf: e,
                                                     alternativeCondition: f, conditionStart: g, alternativeSize: h))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A string a matching line must contain, lowercased; `anchored` when it must start a field value.
struct Piece: Hashable, Sendable {
    var text: String
    var anchored: Bool
}

/// Literal requirements of indicators (see ``LiteralPrefilter``).
enum RequiredLiterals {
    /// The formats whose lines are raw text the prefilter's argument holds for.
    static let formats: Set<EvidenceFormat> = [.httpProxy, .iisW3C]

    /// Beginnings of user-agent words that most browsers send (lowercased), never chosen as a
    /// user agent's piece when it has another word.
    static let commonAgentWords = ["mozilla/", "applewebkit/", "safari/", "chrome/", "(khtml", "khtml", "like", "gecko", "(windows",
                                   "windows", "nt", "win64", "x64", "wow64", "(compatible", "compatible", "edg/", "firefox/",
                                   "trident/", "(macintosh", "intel", "mac", "os", "(x11", "linux", "10.0", "6.1", "rv:"]

    /// Fields with a handful of values shared by most lines (lowercased).
    static let lowCardinalityFields: Set<String> = ["cs-method", "method", "sc-status", "status", "httpstatus", "sc-substatus",
                                                    "sc-win32-status", "s-port", "backendstatus"]

    /// The bytes a field value starts after, per format (LF: the line start).
    static func separators(_ format: EvidenceFormat) -> [String] {
        format == .iisW3C ? [" ", "\t", "\n"] : [",", "\n"]
    }

    /// One indicator's requirement: per chosen condition, the alternatives, each a list of pieces
    /// all needed; nil when none of its conditions yields pieces. Conditions whose every
    /// alternative has a piece of three characters or more (an anchored piece counts two more)
    /// are all kept; when there is none, the strongest one is.
    static func requirement(_ indicator: Indicator, format: EvidenceFormat, lists: [String: [String]],
                            patternLists: [String: [PatternEntry]] = [:]) -> [[[Piece]]]? {
        var kept: [[[Piece]]] = []
        var strongest: (strength: Int, condition: [[Piece]])?
        for c in indicator.all {
            let field = c.field.lowercased()
            let derived = field == "cs-uri" || field == "raw-line"
            guard var alternatives = alternatives(c, lists: lists, patternLists: patternLists) else { continue }
            alternatives = alternatives.map { pieces in
                var out: [Piece] = []
                for p in pieces {
                    if format == .iisW3C && field == "cs-uri" {
                        // Stem and query are joined by "?" in the value, by a separator in the line.
                        out += p.text.split(separator: "?").map { Piece(text: String($0), anchored: false) }
                    } else {
                        out.append(Piece(text: p.text, anchored: p.anchored && !derived))
                    }
                }
                // Short unanchored pieces add matches without selecting much, except a rare symbol
                // next to longer pieces (the "@" of "*autodiscover.json?@*").
                let strong = out.filter { $0.anchored || $0.text.utf8.count >= 3 || (out.count > 1 && Self.isRareSymbol($0.text)) }
                return strong.isEmpty ? Array(out.max { $0.text.utf8.count < $1.text.utf8.count }.map { [$0] } ?? []) : Self.withoutImplied(strong)
            }
            // An alternative that needs nothing makes the condition say nothing.
            guard !alternatives.isEmpty, !alternatives.contains(where: \.isEmpty) else { continue }
            let strength = alternatives.map { a in a.map { $0.text.utf8.count + ($0.anchored ? 2 : 0) }.max() ?? 0 }.min() ?? 0
            // Methods, status codes and ports take a handful of values: nearly every line has one,
            // so they would only add work (kept when an indicator has nothing better).
            if strength >= 3 && !lowCardinalityFields.contains(field) { kept.append(alternatives) }
            if strongest.map({ strength > $0.strength }) ?? true { strongest = (strength, alternatives) }
        }
        if kept.isEmpty, let strongest { kept = [strongest.condition] }
        // A condition that holds on nearly every request (an alternative that is only an
        // Exchange application folder such as `/owa/`) selects nothing but costs a match per
        // line: left out when another condition selects. (Leaving a condition out only makes
        // more lines candidates; it never drops one.)
        let selective = kept.filter { !$0.contains(where: Self.isEverydayPath) }
        if !selective.isEmpty { kept = selective }
        return kept.isEmpty ? nil : kept
    }

    /// The application folders nearly every Exchange request goes to (lowercased, without slashes).
    static let everydayFolders: Set<String> = ["owa", "ecp", "ews", "mapi", "autodiscover", "oab", "rpc", "powershell",
                                               "microsoft-server-activesync"]

    /// Whether every piece of an alternative is only an everyday application folder (`/owa/`).
    static func isEverydayPath(_ alternative: [Piece]) -> Bool {
        !alternative.isEmpty && alternative.allSatisfy { piece in
            let bare = piece.text.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            return piece.text.hasPrefix("/") && everydayFolders.contains(bare)
        }
    }

    /// The pieces of one alternative without those another of its pieces already implies: a
    /// piece found inside another (the `~` of `server~`), or an anchored piece another anchored
    /// piece starts with. The line then has the same pieces present, with fewer matches to count.
    static func withoutImplied(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        for (i, p) in pieces.enumerated() {
            let implied = pieces.enumerated().contains { j, q in
                guard j != i, q.text.utf8.count >= p.text.utf8.count else { return false }
                // Of two equal pieces keep the first.
                if q == p { return j < i }
                return p.anchored ? (q.anchored && q.text.hasPrefix(p.text)) : q.text.contains(p.text)
            }
            if !implied { out.append(p) }
        }
        return out
    }

    /// One character that is neither a letter, a digit nor a separator common in URLs and paths.
    static func isRareSymbol(_ s: String) -> Bool {
        guard s.utf8.count == 1, let c = s.utf8.first else { return false }
        return "@~#<>$!'`^|{}[]*".utf8.contains(c)
    }

    /// The alternatives of one condition, each the pieces it needs, or nil when the condition
    /// yields none (negations, predicates, `empty`, a regex without a required run).
    static func alternatives(_ c: Condition, lists: [String: [String]], patternLists: [String: [PatternEntry]] = [:]) -> [[Piece]]? {
        let values = c.values.map { RuleEngine.asciiLowercased($0) }
        func one(_ s: String, anchored: Bool) -> [Piece] { s.isEmpty ? [] : [Piece(text: s, anchored: anchored)] }
        switch c.op {
        case .equals, .startsWith:
            return values.first.map { [one($0, anchored: true)] }
        case .contains, .endsWith:
            return values.first.map { [one($0, anchored: false)] }
        case .startsWithAny:
            return values.isEmpty ? nil : values.map { one($0, anchored: true) }
        case .containsAny, .endsWithAny:
            return values.isEmpty ? nil : values.map { one($0, anchored: false) }
        case .like, .likeAny:
            let patterns = c.op == .like ? Array(values.prefix(1)) : values
            guard !patterns.isEmpty else { return nil }
            return patterns.map { pattern in
                let runs = pattern.split(omittingEmptySubsequences: false) { $0 == "*" || $0 == "?" }.map(String.init)
                var pieces: [Piece] = []
                for (k, run) in runs.enumerated() where !run.isEmpty {
                    pieces.append(Piece(text: run, anchored: k == 0))
                }
                return pieces
            }
        case .inList:
            guard let members = lists[c.values.first ?? ""], !members.isEmpty else { return nil }
            if IPAddressText.canonicalSet(members) != nil {
                // As the rule engine compares addresses (``IPAddressText``): the canonical text
                // starting a value, and an IPv4 address also behind the ":" of `::ffff:`; other
                // members as text.
                return members.flatMap { m -> [[Piece]] in
                    guard let a = IPAddressText.canonical(m.trimmingCharacters(in: .whitespaces)) else {
                        return [one(RuleEngine.asciiLowercased(m), anchored: true)]
                    }
                    return a.contains(":") ? [one(a, anchored: true)] : [one(a, anchored: true), one(":" + a, anchored: false)]
                }
            }
            return members.map { one(RuleEngine.asciiLowercased($0), anchored: true) }
        case .domainInList, .fileNameInList:
            guard let members = lists[c.values.first ?? ""], !members.isEmpty else { return nil }
            return members.map { one(RuleEngine.asciiLowercased($0), anchored: false) }
        case .userAgentInList:
            guard let members = lists[c.values.first ?? ""], !members.isEmpty else { return nil }
            return members.map { ua in
                // One word per agent: the longest that browsers do not all share.
                let words = UserAgent.normalize(ua).split(separator: " ").map(String.init)
                let rare = words.filter { w in !commonAgentWords.contains { w.hasPrefix($0) } }
                return (rare.isEmpty ? words : rare).max { $0.utf8.count < $1.utf8.count }.map { [Piece(text: $0, anchored: false)] } ?? []
            }
        case .regex:
            return requiredRegexRuns(c.values.first ?? "").map { [$0.map { Piece(text: $0, anchored: false) }] }
        case .regexInList:
            // Any pattern of the list may match (an exclusion only removes matches).
            guard let entries = patternLists[c.values.first ?? ""], !entries.isEmpty else { return nil }
            var out: [[Piece]] = []
            for e in entries {
                guard let runs = requiredRegexRuns(e.pattern) else { return nil }
                out.append(runs.map { Piece(text: $0, anchored: false) })
            }
            return out
        case .notLike, .notLikeAny, .notEquals, .notContains, .notInList, .empty, .predicate, .fileNameNotInList:
            return nil
        }
    }

    /// The longest run of plain characters every match of `pattern` (an ICU regular expression,
    /// matched case-insensitively) must contain, lowercased; nil when the pattern has top-level
    /// alternation, inline options other than a leading `(?i)`, or no run of two characters or
    /// more. Groups, classes and escapes such as `\d` end a run; a character made optional by `?`,
    /// `*` or `{0,…}` is dropped.
    static func requiredRegexRun(_ pattern: String) -> String? {
        requiredRegexRuns(pattern)?.max { $0.utf8.count < $1.utf8.count }
    }

    /// Every run of two characters or more that ``requiredRegexRun(_:)`` chooses from (all are
    /// needed by every match), lowercased; nil when there is none or the pattern is not safe to read.
    static func requiredRegexRuns(_ pattern: String) -> [String]? {
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
        let usable = runs.filter { $0.utf8.count >= 2 }.map { RuleEngine.asciiLowercased($0) }
        return usable.isEmpty ? nil : usable
    }
}
