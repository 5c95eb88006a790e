import Foundation

/// Schema versions of `case.json` and the migrations between them.
///
/// Every migration works on the raw JSON tree (as `JSONSerialization` reads it) and moves it
/// from version `n` to `n + 1`; ``migrate(_:from:)`` runs them in order, so a case from any
/// earlier version reaches ``CaseFile/currentSchemaVersion``. To add version 3: bump
/// `currentSchemaVersion`, add the step `2: …` to ``steps``, and document it in `docs/case-file.md`.
public enum CaseSchema {
    /// Migration steps: the key is the version a step starts from.
    static let steps: [Int: @Sendable (inout [String: Any]) -> Void] = [
        // 1 → 2: evidence records gain optional `modifiedAt`, `addedFrom` and `altered`; nothing
        // to rewrite, only the version number changes.
        1: { tree in tree["schemaVersion"] = 2 },
    ]

    /// The `schemaVersion` of raw case JSON, or nil when it has none (or not an integer).
    public static func version(of data: Data) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return intValue(object["schemaVersion"])
    }

    static func intValue(_ any: Any?) -> Int? {
        guard let n = any as? NSNumber else { return nil }
        // JSON true/false also arrive as NSNumber: not a version.
        let type = String(cString: n.objCType)
        if type == "c" || type == "B" { return nil }
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 1e15 else { return nil }
        return n.intValue
    }

    /// Moves a raw tree from `version` to the current version.
    /// - Returns: the migrated tree (unchanged when it is already current).
    public static func migrate(_ tree: [String: Any], from version: Int) -> [String: Any] {
        var tree = tree
        var v = version
        while v < CaseFile.currentSchemaVersion, let step = steps[v] {
            step(&tree)
            v += 1
        }
        return tree
    }

    // MARK: - Keeping unknown keys

    /// Adds to `fresh` (the tree just encoded from the model) every key of `old` (the tree as
    /// last loaded) that this version does not know, at every level. Objects are merged key by
    /// key; arrays of objects are matched element by element by their identity (see
    /// ``identity(of:)``), so an unknown key on one server, evidence record, triage decision or
    /// audit entry stays with it. A key the model knows but left out (an optional set to nil,
    /// such as a cleared note or an `altered` flag lifted) is not brought back, and neither is
    /// an entry removed from a map keyed by data (checklists). Values this version knows always
    /// come from `fresh`.
    public static func keepingUnknownKeys(fresh: Any, old: Any) -> Any {
        var copied = false
        return keepingUnknownKeys(fresh: fresh, old: old, copied: &copied)
    }

    /// As ``keepingUnknownKeys(fresh:old:)``; `copied` is set when any key was copied over.
    public static func keepingUnknownKeys(fresh: Any, old: Any, copied: inout Bool) -> Any {
        merge(fresh: fresh, old: old, at: [], copied: &copied)
    }

    /// What the model knows about the object at a path (`*` stands for any array index or map key).
    enum Known {
        /// A model type: these are its keys.
        case keys(Set<String>)
        /// A map keyed by data (server names, step ids): every key is known.
        case map
        /// Not part of the model (inside an unknown key's value): nothing is known.
        case nothing
    }

    /// Property names of a value, by reflection; the model's JSON keys are its property names.
    private static func labels(_ value: Any) -> Set<String> {
        Set(Mirror(reflecting: value).children.compactMap(\.label))
    }

    private static let knownKeys: [[String]: Known] = {
        let epoch = Date(timeIntervalSince1970: 0)
        return [
            []: .keys(labels(CaseFile(name: ""))),
            ["settings"]: .keys(labels(CaseSettings())),
            ["servers", "*"]: .keys(labels(Server(name: ""))),
            ["evidence", "*"]: .keys(labels(EvidenceRecord(path: "", server: "", sizeBytes: 0, sha256: "", addedAt: epoch, addedBy: ""))),
            ["evidence", "*", "altered"]: .keys(labels(EvidenceAlteration(detectedAt: epoch, sizeBytes: 0, sha256: "", reason: ""))),
            ["triage", "*"]: .keys(labels(TriageDecision(hitId: "", decision: .confirmed, by: "", at: epoch))),
            ["checklists"]: .map,
            ["checklists", "*"]: .map,
            ["checklists", "*", "*"]: .keys(labels(ChecklistEntry(state: .todo, by: "", at: epoch))),
            ["audit", "*"]: .keys(labels(AuditEntry(at: epoch, by: "", action: ""))),
            ["indicatorPacks", "*"]: .keys(labels(IndicatorPackRecord(id: "", name: "", file: "", format: .text, sourceSHA256: "",
                                                                     importedAt: epoch, importedBy: "", indicatorCount: 0))),
        ]
    }()

    static func known(at path: [String]) -> Known {
        if let k = knownKeys[path] { return k }
        // Below a model object, any path not in the table is inside a value the model does not
        // know, or a scalar: nothing to merge by keys.
        return .nothing
    }

    private static func merge(fresh: Any, old: Any, at path: [String], copied: inout Bool) -> Any {
        if let f = fresh as? [String: Any], let o = old as? [String: Any] {
            let known = known(at: path)
            var out = f
            for (key, value) in o {
                if let mine = f[key] {
                    let childPath: [String]
                    switch known {
                    case .map: childPath = path + ["*"]
                    case .keys, .nothing: childPath = path + [key]
                    }
                    out[key] = merge(fresh: mine, old: value, at: childPath, copied: &copied)
                    continue
                }
                switch known {
                case let .keys(keys) where keys.contains(key):
                    continue // known to the model and left out on purpose: stays out
                case .map:
                    continue // an entry the model removed
                default:
                    out[key] = value
                    copied = true
                }
            }
            return out
        }
        if let f = fresh as? [Any], let o = old as? [Any] {
            var byIdentity: [String: Any] = [:]
            for element in o {
                if let id = identity(of: element), byIdentity[id] == nil { byIdentity[id] = element }
            }
            return f.map { element -> Any in
                guard let id = identity(of: element), let match = byIdentity[id] else { return element }
                return merge(fresh: element, old: match, at: path + ["*"], copied: &copied)
            }
        }
        return fresh
    }

    /// The identity of an array element: `name` (servers), `path` (evidence), otherwise the
    /// values of `hitId`, `at`, `by`, `action`, `field` that it has (triage decisions, audit
    /// entries). Nil for scalars and objects with none of these keys (they are not merged).
    static func identity(of element: Any) -> String? {
        guard let object = element as? [String: Any] else { return nil }
        if let name = object["name"] as? String { return "name\u{1}" + name }
        if let path = object["path"] as? String { return "path\u{1}" + path }
        let keys = ["hitId", "at", "by", "action", "field"]
        let parts = keys.compactMap { key in object[key].map { "\(key)=\($0)" } }
        return parts.isEmpty ? nil : parts.joined(separator: "\u{1}")
    }
}

/// The raw JSON tree of the case as a store last loaded or wrote it, shared by copies of the
/// store (a reference), so that keys unknown to this version survive the next save.
final class RawTreeMemory: @unchecked Sendable {
    private let lock = NSLock()
    private var tree: [String: Any]?

    func remember(_ tree: [String: Any]?) {
        lock.lock(); defer { lock.unlock() }
        self.tree = tree
    }

    func recall() -> [String: Any]? {
        lock.lock(); defer { lock.unlock() }
        return tree
    }
}
