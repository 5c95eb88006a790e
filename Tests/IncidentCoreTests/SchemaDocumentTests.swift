import Foundation
import Testing
@testable import IncidentCore

/// `docs/case.schema.json` must describe every key the console writes.
@Suite("Case schema document")
struct SchemaDocumentTests {
    static let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/case.schema.json")

    @Test func everyKeyTheEncoderWritesIsInTheSchema() throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.schemaURL)) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        func keys(_ def: String) -> Set<String> {
            Set(((defs[def] as? [String: Any])?["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
        }
        let topKeys = Set((schema["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
        var c = sampleCase()
        c.evidence[0].modifiedAt = date("2021-03-04T00:00:00.000Z")
        c.evidence[0].addedFrom = "jump01 via 203.0.113.7"
        c.evidence[0].altered = EvidenceAlteration(detectedAt: date("2021-03-06T00:00:00.000Z"), sizeBytes: 1, sha256: String(repeating: "cd", count: 32), reason: "shrank")
        c.audit[0].field = "f"; c.audit[0].before = "b"; c.audit[0].note = "n"
        c.servers[0].firstExposure = date("2021-01-06T00:00:00.000Z")
        c.servers[0].patchedOn = date("2021-03-03T00:00:00.000Z")
        c.checklists["EXCH01"]?["patch"]?.hitsAtDone = ["0123456789abcdef"]
        c.checklists["EXCH01"]?["patch"]?.buildAtDone = "15.1.2106.2"
        let tree = try #require(try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(c)) as? [String: Any])
        #expect(Set(tree.keys).subtracting(topKeys).isEmpty)
        #expect(Set((tree["settings"] as! [String: Any]).keys).subtracting(keys("settings")).isEmpty)
        for s in tree["servers"] as! [[String: Any]] { #expect(Set(s.keys).subtracting(keys("server")).isEmpty) }
        for e in tree["evidence"] as! [[String: Any]] {
            #expect(Set(e.keys).subtracting(keys("evidence")).isEmpty)
            #expect(Set((e["altered"] as! [String: Any]).keys).subtracting(keys("alteration")).isEmpty)
        }
        for t in tree["triage"] as! [[String: Any]] { #expect(Set(t.keys).subtracting(keys("triage")).isEmpty) }
        for (_, steps) in tree["checklists"] as! [String: [String: [String: Any]]] {
            for (_, entry) in steps { #expect(Set(entry.keys).subtracting(keys("checklistEntry")).isEmpty) }
        }
        for a in tree["audit"] as! [[String: Any]] { #expect(Set(a.keys).subtracting(keys("audit")).isEmpty) }
        #expect((schema["properties"] as? [String: Any]).flatMap { ($0["schemaVersion"] as? [String: Any])?["const"] as? Int } == CaseFile.currentSchemaVersion)
    }
}
