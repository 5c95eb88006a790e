import ArgumentParser
import Foundation
import IncidentCore

/// `incident indicators list [--format text|json]`.
struct IndicatorsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every built-in indicator with its kind, field, rule, severity, stage, CVE, sources and false positives.",
        discussion: """
        Text: one block per indicator. JSON: an array of objects with "id", "title", "kind", "severity", "stage", "cve", "formats" (evidence formats it is evaluated on; empty for catalog rows kept for reference), "field", "rule" (the conditions as text), "conditions" (as in the pack), "sources" (URLs), "falsePositives", "description".

        Exit codes: 0 success; 2 error.

        Examples:
          incident indicators list
          incident indicators list --format json | jq '.[] | select(.severity == "critical") | .id'
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let engine: RuleEngine
        do { engine = try RuleEngine(pack: BuiltInData.indicatorPack(), literalPrefilter: false) } catch { fail("built-in indicators: \(error)") }
        let indicators = engine.pack.indicators
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let rows = indicators.map { i in
                Row(id: i.id, title: i.title, kind: i.catalogKind, severity: i.severity.rawValue, stage: i.stage.rawValue, cve: i.cve,
                    formats: i.formats.map(\.rawValue), field: i.field, rule: i.ruleText, conditions: i.all, sources: i.sources,
                    falsePositives: i.falsePositives, description: i.description)
            }
            let data = (try? encoder.encode(rows)) ?? Data("[]".utf8)
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text:
            for i in indicators {
                print("\(i.id)  \(i.severity.rawValue)  \(i.stage.rawValue)  \(i.cve ?? "-")  \(i.catalogKind)")
                print("  \(i.title)")
                print("  formats: \(i.formats.isEmpty ? "none (reference only, not evaluated)" : i.formats.map(\.rawValue).joined(separator: ", "))")
                print("  field: \(i.field)")
                print("  rule: \(i.ruleText)")
                print("  false positives: \(i.falsePositives ?? "none known")")
                for s in i.sources { print("  source: \(s)") }
                print("")
            }
            print("\(indicators.count) indicator(s), pack \(engine.pack.name) \(engine.pack.version)")
        }
    }

    /// One catalog row in JSON.
    struct Row: Encodable {
        var id, title, kind, severity, stage: String
        var cve: String?
        var formats: [String]
        var field, rule: String
        var conditions: [Condition]
        var sources: [String]
        var falsePositives: String?
        var description: String

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(title, forKey: .title); try c.encode(kind, forKey: .kind)
            try c.encode(severity, forKey: .severity); try c.encode(stage, forKey: .stage); try c.encode(cve, forKey: .cve)
            try c.encode(formats, forKey: .formats); try c.encode(field, forKey: .field); try c.encode(rule, forKey: .rule)
            try c.encode(conditions, forKey: .conditions); try c.encode(sources, forKey: .sources)
            try c.encode(falsePositives, forKey: .falsePositives); try c.encode(description, forKey: .description)
        }

        enum CodingKeys: String, CodingKey {
            case id, title, kind, severity, stage, cve, formats, field, rule, conditions, sources, falsePositives, description
        }
    }
}
