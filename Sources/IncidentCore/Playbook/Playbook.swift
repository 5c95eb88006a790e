import Foundation

/// A remediation playbook: the ordered steps each server is walked through.
///
/// JSON shape: `{"name", "version", "steps": [PlaybookStep]}`; the built-in playbook follows
/// CISA ED 21-02 and Microsoft's guidance as summarised in `../shared/knowledge/proxylogon.md` §4.6.
public struct Playbook: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var steps: [PlaybookStep]

    /// The built-in playbook (`Sources/IncidentCore/Resources/playbook.json`).
    public static func builtIn() throws -> Playbook { try BuiltInData.playbook() }

    /// Steps that apply to a server with this verdict; steps for compromised servers apply once
    /// the verdict is `exploited` or `compromised`.
    public func applicableSteps(verdict: Verdict) -> [PlaybookStep] {
        steps.filter { $0.applies(verdict: verdict) }
    }
}

/// One remediation step.
public struct PlaybookStep: Codable, Sendable, Equatable, Identifiable {
    /// When a step applies.
    public enum Applicability: String, Codable, Sendable {
        case always
        /// Only when the evidence shows a successful intrusion: verdict `exploited` or
        /// `compromised` (contain, rebuild).
        case compromised
        /// Only while the server is not patched (interim mitigation).
        case unpatched
    }

    /// Stable id, e.g. `patch`.
    public var id: String
    public var title: String
    /// What to do, in a few sentences.
    public var guidance: String
    /// Commands to run on the server, one per entry.
    public var commands: [String]
    /// What "done" means.
    public var doneWhen: String
    public var appliesWhen: Applicability
    /// Ids of steps this one depends on.
    public var dependsOn: [String]
    /// URLs of the guidance the step follows.
    public var sources: [String]
    /// True when the step is part of the investigation: a server whose evidence shows no
    /// successful intrusion counts as `investigated-clean` only once every applicable
    /// investigation step is done or not applicable. Absent means false.
    public var investigation: Bool?
    /// True when the step evicts an intruder: a compromised server counts as `remediated` only
    /// once every applicable eviction step is done or not applicable. Absent means false.
    public var eviction: Bool?

    public func applies(verdict: Verdict) -> Bool {
        switch appliesWhen {
        case .always, .unpatched: true
        case .compromised: verdict >= .exploited
        }
    }
}

/// Data files compiled into the binary.
public enum BuiltInData {
    /// The built-in indicator pack.
    /// - Throws: ``IndicatorPackError/malformed(file:line:column:message:)`` if the shipped JSON is broken.
    public static func indicatorPack() throws -> IndicatorPack {
        try decode(IndicatorPack.self, PackageResources.indicators_json, name: "indicators.json")
    }

    /// The built-in playbook.
    public static func playbook() throws -> Playbook {
        try decode(Playbook.self, PackageResources.playbook_json, name: "playbook.json")
    }

    /// Decodes a user-supplied or shipped JSON data file, reporting problems with line and column.
    /// - Throws: ``IndicatorPackError/malformed(file:line:column:message:)``.
    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], name: String) throws -> T {
        let locator = JSONLocator(bytes)
        if let (pos, message) = locator.firstSyntaxError() {
            throw IndicatorPackError.malformed(file: name, line: pos.line, column: pos.column, message: message)
        }
        do {
            return try JSONCoding.decoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            // The same wording as for case files ("missing key \"title\"", "expected a string").
            let (codingPath, message) = CaseStore.describe(error)
            let steps: [JSONLocator.Step] = codingPath.map { $0.intValue.map(JSONLocator.Step.index) ?? .key($0.stringValue) }
            let pos = locator.position(of: steps)
            let at = codingPath.isEmpty ? "" : " at " + codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw IndicatorPackError.malformed(file: name, line: pos.line, column: pos.column, message: message + at)
        }
    }
}
