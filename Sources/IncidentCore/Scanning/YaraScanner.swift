import CYara
import Foundation

/// A problem in a YARA rule file: where, and libyara's message.
public struct YaraRuleError: Sendable, Equatable, CustomStringConvertible {
    /// The rule file, relative to the case folder (`rules/x.yar`) or `webshells.yar` for the built-ins.
    public var file: String
    /// 1-based line libyara reports (0 when it names none).
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// Compiled YARA rules (libyara's `YR_RULES`). Immutable; scans may run on any thread.
public final class YaraRules: @unchecked Sendable {
    fileprivate let handle: UnsafeMutablePointer<YR_RULES>
    /// Number of rule files compiled in (the built-in file counts as one).
    public let sources: Int

    fileprivate init(handle: UnsafeMutablePointer<YR_RULES>, sources: Int) {
        self.handle = handle
        self.sources = sources
    }

    deinit { yr_rules_destroy(handle) }

    /// Every rule's hit indicator id (``ContentRules/indicatorID(rule:source:)``) and its `title`
    /// metadata (its description, then its identifier, when it has none).
    public var titles: [String: String] {
        var out: [String: String] = [:]
        var i: Int32 = 0
        while let rule = inc_yr_rule_at(handle, i) {
            if let id = inc_yr_rule_identifier(rule).map({ String(cString: $0) }) {
                let source = inc_yr_rule_namespace(rule).map { String(cString: $0) } ?? ""
                let imported = ContentRuleSource.parts(of: source) != nil
                out[ContentRules.indicatorID(rule: id, source: source)] = (inc_yr_meta_string(rule, "title") ?? (imported ? inc_yr_meta_string(rule, "description") : nil))
                    .map { String(cString: $0) } ?? id
            }
            i += 1
        }
        return out
    }
}

/// One rule matching one file.
public struct YaraMatch: Sendable, Equatable {
    /// The rule's identifier, e.g. `ChinaChopper_Eval_Unsafe`.
    public var rule: String
    /// The rule source it came from (its YARA namespace): `webshells.yar`, `rules/x.yar`, or
    /// `indicators/<pack id>: <name>` for an imported pack's rule.
    public var source: String = ""
    /// The rule's string metadata (`title`, `severity`, `stage`, `cve`, `source`, …).
    public var meta: [String: String]
    /// Byte offset of the earliest matching string, nil when the rule matched on its condition alone.
    public var offset: Int64?
    /// The bytes of that match (at most 256).
    public var matched: [UInt8]
}

/// libyara, used through its C API (Debian `libyara-dev`): compiling rule text and scanning files.
/// https://yara.readthedocs.io/en/stable/capi.html
public enum Yara {
    /// `yr_initialize` runs once per process; libyara's own tables stay for the process lifetime.
    private static let ready: Bool = yr_initialize() == inc_yr_success()
    private static let compileLock = NSLock()

    /// Compiles rule sources into one rule set, each source in its own namespace named after it
    /// (so equal rule names in two files do not clash). `include` is refused.
    /// - Parameter sources: `name` (shown in errors) and rule text.
    /// - Returns: the rules (nil when any source has an error) and every error with its line.
    public static func compile(_ sources: [(name: String, text: String)]) -> (rules: YaraRules?, errors: [YaraRuleError]) {
        // libyara's compiler is not documented as thread-safe: one compile at a time per process.
        compileLock.lock()
        defer { compileLock.unlock() }
        guard ready else { return (nil, [YaraRuleError(file: sources.first?.name ?? "", line: 0, message: "libyara could not be initialised")]) }
        var compiler: UnsafeMutablePointer<YR_COMPILER>?
        guard yr_compiler_create(&compiler) == inc_yr_success(), let compiler else {
            return (nil, [YaraRuleError(file: sources.first?.name ?? "", line: 0, message: "libyara could not create a compiler (out of memory?)")])
        }
        defer { yr_compiler_destroy(compiler) }
        let box = ErrorBox()
        let context = Unmanaged.passUnretained(box).toOpaque()
        yr_compiler_set_callback(compiler, { level, _, line, _, message, userData in
            guard level == 0, let userData else { return } // 0 = YARA_ERROR_LEVEL_ERROR; warnings are not reported
            let box = Unmanaged<ErrorBox>.fromOpaque(userData).takeUnretainedValue()
            box.errors.append((Int(line), message.map { String(cString: $0) } ?? "error"))
        }, context)
        inc_yr_disable_includes(compiler)
        var failed = false
        var namespaces = Set<String>()
        for source in sources {
            box.errors.removeAll()
            // The source's name is its namespace (hits say where a rule came from), made unique.
            var ns = source.name
            var k = 2
            while !namespaces.insert(ns).inserted {
                ns = "\(source.name) #\(k)"
                k += 1
            }
            let count = source.text.withCString { text in
                ns.withCString { ns in yr_compiler_add_string(compiler, text, ns) }
            }
            if count > 0 || !box.errors.isEmpty {
                failed = true
                box.all += box.errors.map { YaraRuleError(file: source.name, line: $0.line, message: $0.message) }
                break // libyara's compiler is unusable after an error
            }
        }
        withExtendedLifetime(box) {}
        if failed { return (nil, box.all) }
        var rules: UnsafeMutablePointer<YR_RULES>?
        guard yr_compiler_get_rules(compiler, &rules) == inc_yr_success(), let rules else {
            return (nil, [YaraRuleError(file: sources.last?.name ?? "", line: 0, message: "libyara could not build the rule set")])
        }
        return (YaraRules(handle: rules, sources: sources.count), [])
    }

    /// Scans one file (libyara maps it into memory; the file is opened read-only).
    /// - Parameters:
    ///   - timeout: seconds before libyara gives up on the file.
    /// - Returns: the matching rules, or the reason the scan failed (`.failure` carries libyara's error code in text).
    public static func scan(_ rules: YaraRules, path: String, timeout: Int32 = 60) -> Result<[YaraMatch], YaraScanFailure> {
        let box = MatchBox()
        let context = Unmanaged.passUnretained(box).toOpaque()
        let code = yr_rules_scan_file(rules.handle, path, inc_yr_scan_flags(), { scanContext, message, messageData, userData in
            guard message == inc_yr_msg_rule_matching(), let userData, let messageData else { return inc_yr_continue() }
            let box = Unmanaged<MatchBox>.fromOpaque(userData).takeUnretainedValue()
            let rule = messageData.assumingMemoryBound(to: YR_RULE.self)
            let name = inc_yr_rule_identifier(rule).map { String(cString: $0) } ?? "unnamed"
            var meta: [String: String] = [:]
            for key in YaraMeta.keys {
                if let v = inc_yr_meta_string(rule, key) { meta[key] = String(cString: v) }
            }
            var data: UnsafePointer<UInt8>?
            var length: Int32 = 0
            let at = scanContext.map { inc_yr_first_match($0, rule, &data, &length) } ?? -1
            var bytes: [UInt8] = []
            if let data, length > 0 { bytes = Array(UnsafeBufferPointer(start: data, count: Int(min(length, 256)))) }
            let source = inc_yr_rule_namespace(rule).map { String(cString: $0) } ?? ""
            box.matches.append(YaraMatch(rule: name, source: source, meta: meta, offset: at >= 0 ? at : nil, matched: bytes))
            return inc_yr_continue()
        }, context, timeout)
        withExtendedLifetime(box) {}
        guard code == inc_yr_success() else { return .failure(YaraScanFailure(code: Int(code))) }
        return .success(box.matches)
    }

    private final class ErrorBox {
        var errors: [(line: Int, message: String)] = []
        var all: [YaraRuleError] = []
    }

    private final class MatchBox {
        var matches: [YaraMatch] = []
    }
}

/// A scan libyara could not finish.
public struct YaraScanFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// libyara's error code (`yara/error.h`).
    public var code: Int
    public var description: String {
        switch code {
        case 2: "out of memory"
        case 3, 4: "could not open or map the file"
        case 26: "timed out"
        case 30: "too many matches"
        default: "libyara error \(code)"
        }
    }
}

/// The metadata keys the console reads from a rule.
public enum YaraMeta {
    public static let keys = ["title", "description", "severity", "stage", "cve", "source", "reference", "false_positives"]
}

/// A YARA rule text that came with an imported indicator pack, named (in errors and as its
/// YARA namespace) as `indicators/<pack id>: <rule description>`.
public struct ContentRuleSource: Sendable, Equatable {
    public var name: String
    public var text: String

    /// A pack's rule, named `indicators/<pack>: <rule>`.
    public init(pack: String, rule: String, text: String) {
        name = Self.prefix + pack + ": " + rule
        self.text = text
    }

    private static let prefix = "indicators/"

    /// The pack id and rule name of a source name made by ``init(pack:rule:text:)``; nil for the
    /// built-in file and case rule files.
    public static func parts(of name: String) -> (pack: String, rule: String)? {
        guard name.hasPrefix(prefix), let colon = name.range(of: ": ") else { return nil }
        return (String(name[name.index(name.startIndex, offsetBy: prefix.count)..<colon.lowerBound]), String(name[colon.upperBound...]))
    }

    /// The `yara-rule` IOCs of the packs, in pack and file order.
    public static func from(_ packs: [ImportedPack]) -> [ContentRuleSource] {
        packs.flatMap { pack in
            pack.iocs.enumerated().filter { $0.element.type == .yaraRule }.map { k, ioc in
                ContentRuleSource(pack: pack.id, rule: ioc.description ?? "rule \(k + 1)", text: ioc.value)
            }
        }
    }
}

/// The YARA rules a case's collected files are scanned with: the built-in web-shell rules
/// (`Sources/IncidentCore/Resources/webshells.yar`) plus every `*.yar` / `*.yara` file under
/// `CASE/rules/` (any depth), plus the file rules of the case's enabled imported packs
/// (``RuleEngine/importedContentRules``). `rules/` is not evidence and is never scanned as evidence.
/// A rule file that does not compile is left out and reported with file, line and message; the
/// others still apply. Immutable.
public final class ContentRules: @unchecked Sendable {
    /// The compiled rules (nil only if even the built-in rules fail to compile).
    public let rules: YaraRules?
    /// Case rule files that were compiled in, relative to the case folder, sorted.
    public let caseFiles: [String]
    /// Rule files left out, with why.
    public let errors: [YaraRuleError]
    /// Changes when any rule file is added, removed or changed (paths, sizes, modification times).
    public let signature: String

    init(rules: YaraRules?, caseFiles: [String], errors: [YaraRuleError], signature: String) {
        self.rules = rules
        self.caseFiles = caseFiles
        self.errors = errors
        self.signature = signature
    }

    /// Hit titles by indicator id (``indicatorID(rule:source:)`` → the rule's `title`), for the console's hit list.
    public var titles: [String: String] { rules?.titles ?? [:] }

    /// The indicator id a rule's hits carry: `YARA:<rule>` for the built-in and `rules/` files,
    /// `YARA:<pack id>/<rule>` for a rule that came with an imported pack (so it never shares
    /// hit ids, or triage, with a built-in rule of the same name).
    public static func indicatorID(rule: String, source: String) -> String {
        guard let pack = ContentRuleSource.parts(of: source)?.pack else { return "YARA:" + rule }
        return "YARA:" + pack + "/" + rule
    }

    /// The stage of a rule whose metadata names none (CHIRP's rules, most public rules):
    /// `web-shell` when the rule identifier, its `title`/`description` metadata or the imported
    /// pack's name for it speaks of a web shell (`webshell`, `web shell`, `web_shell`); otherwise
    /// `post-exploitation` when they speak of credential theft or tooling seen after the break-in
    /// (``postExploitationWords``: CHIRP's `lsass_process_memory_dump`, "procdump to dump LSASS
    /// process memory"); otherwise `web-shell`, the reason collected files are scanned at all.
    public static func inferredStage(_ match: YaraMatch) -> Stage {
        let names = ([match.rule, match.meta["title"], match.meta["description"], ContentRuleSource.parts(of: match.source)?.rule]
            .compactMap { $0 }.joined(separator: " ")).lowercased()
        if ["webshell", "web shell", "web_shell", "web-shell"].contains(where: names.contains) { return .webShell }
        if postExploitationWords.contains(where: names.contains) { return .postExploitation }
        return .webShell
    }

    /// Words that mark a rule without `stage` metadata as `post-exploitation`: LSASS dumping
    /// (procdump, comsvcs MiniDump; https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/),
    /// credential tools, the reverse shell and exfiltration steps HAFNIUM used after the web shell
    /// (powercat, 7-Zip archives of mailboxes, `New-MailboxExportRequest`; same source).
    public static let postExploitationWords = ["lsass", "procdump", "minidump", "mimikatz", "credential", "powercat", "exfil", "mailbox export",
                                               "mailboxexport", "7-zip", "nishang"]

    /// Name of the built-in rule file, as shown in errors.
    public static let builtInName = "webshells.yar"
    /// Rule files larger than this are not read.
    public static let maxRuleFileBytes = 8 * 1_048_576

    /// The built-in rules alone.
    public static let builtIn: ContentRules = {
        let text = String(decoding: PackageResources.webshells_yar, as: UTF8.self)
        let (rules, errors) = Yara.compile([(builtInName, text)])
        return ContentRules(rules: rules, caseFiles: [], errors: errors, signature: "")
    }()

    /// Rule files under `CASE/rules/` with their signature parts (relative path, size, mtime), sorted.
    static func listCaseRuleFiles(_ caseFolder: URL) -> [(relative: String, path: String, stamp: String)] {
        let root = caseFolder.standardizedFileURL.appendingPathComponent("rules")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var out: [(String, String, String)] = []
        for case let url as URL in walker {
            let ext = url.pathExtension.lowercased()
            guard ext == "yar" || ext == "yara" else { continue }
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey])
            guard values?.isRegularFile == true else { continue }
            let relative = "rules/" + EvidenceWalker.relativePath(of: url, under: root)
            let stamp = "\(relative)|\(values?.fileSize ?? 0)|\(values?.contentModificationDate?.timeIntervalSince1970 ?? 0)"
            out.append((relative, url.path, stamp))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The signature of a case's rule files as they are on disk now (one directory walk, no reads),
    /// and of the imported rules.
    public static func currentSignature(caseFolder: URL, imported: [ContentRuleSource] = []) -> String {
        signature(listCaseRuleFiles(caseFolder), imported)
    }

    private static func signature(_ files: [(relative: String, path: String, stamp: String)], _ imported: [ContentRuleSource]) -> String {
        (files.map(\.stamp) + imported.map { "\($0.name)|\($0.text.utf8.count)|\($0.text.hashValue)" }).joined(separator: "\n")
    }

    /// Compiles the built-in rules, the case's rule files and the imported rules (each source in
    /// its own YARA namespace). Each file or imported rule is compiled with the ones accepted
    /// before it, so one that does not compile is left out alone (listed in ``errors``).
    public static func load(caseFolder: URL, imported: [ContentRuleSource] = []) -> ContentRules {
        let files = listCaseRuleFiles(caseFolder)
        let signature = signature(files, imported)
        guard !files.isEmpty || !imported.isEmpty else {
            let b = builtIn
            return ContentRules(rules: b.rules, caseFiles: [], errors: b.errors, signature: signature)
        }
        let builtInText = String(decoding: PackageResources.webshells_yar, as: UTF8.self)
        var good: [(name: String, text: String)] = []
        var errors: [YaraRuleError] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path) else {
                errors.append(YaraRuleError(file: file.relative, line: 0, message: "cannot be read"))
                continue
            }
            guard data.count <= maxRuleFileBytes else {
                errors.append(YaraRuleError(file: file.relative, line: 0, message: "larger than \(maxRuleFileBytes / 1_048_576) MiB: not read"))
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            // Each file is tried with those accepted so far, so one broken file (or one that
            // repeats a rule name) leaves the others in use.
            let (_, fileErrors) = Yara.compile([(builtInName, builtInText)] + good + [(file.relative, text)])
            if fileErrors.isEmpty { good.append((file.relative, text)) } else { errors += fileErrors }
        }
        for source in imported {
            let (_, ruleErrors) = Yara.compile([(builtInName, builtInText)] + good + [(source.name, source.text)])
            if ruleErrors.isEmpty { good.append((source.name, source.text)) } else { errors += ruleErrors }
        }
        let (rules, combinedErrors) = Yara.compile([(builtInName, builtInText)] + good)
        if rules == nil {
            // Should not happen (each file compiled alone); fall back to the built-ins.
            let b = builtIn
            return ContentRules(rules: b.rules, caseFiles: [], errors: errors + combinedErrors + b.errors, signature: signature)
        }
        return ContentRules(rules: rules, caseFiles: good.map(\.name), errors: errors, signature: signature)
    }

    /// The indicator a rule's hit is reported under: id `YARA:<rule>`, and severity, stage, CVE,
    /// sources and false positives from the rule's metadata (defaults for rules without them:
    /// `high`, and the stage ``inferredStage(_:)`` reads from the rule's names).
    public static func indicator(for match: YaraMatch) -> Indicator {
        let m = match.meta
        let severity = m["severity"].flatMap { Severity(rawValue: $0.lowercased()) } ?? .high
        let stage = m["stage"].flatMap { Stage(rawValue: $0.lowercased()) } ?? inferredStage(match)
        let sources = (m["source"] ?? m["reference"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        let imported = ContentRuleSource.parts(of: match.source) != nil
        let title = m["title"] ?? (imported ? m["description"] : nil) ?? "YARA rule \(match.rule)"
        let description = imported
            ? (m["description"].map { "\($0) (YARA rule \(match.rule) from \(match.source).)" } ?? "YARA rule \(match.rule) from \(match.source) matched this file.")
            : (m["description"] ?? "The case's YARA rule \(match.rule) matched this file.")
        return Indicator(id: indicatorID(rule: match.rule, source: match.source), title: title,
                         description: description,
                         severity: severity, stage: stage, cve: m["cve"], formats: [.collectedFile], field: "content",
                         all: [], sources: sources, falsePositives: m["false_positives"], suppressedBy: nil)
    }
}
