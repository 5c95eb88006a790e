import Foundation
import Testing
@testable import IncidentCore

@Suite("IP address lists: canonical text, IPv4-mapped clients, zone ids")
struct IPAddressTextTests {
    @Test("canonical text and the form a field value is looked up by")
    func canonicalText() {
        #expect(IPAddressText.canonical("5.254.43.18") == "5.254.43.18")
        #expect(IPAddressText.canonical("2001:DB8:0:0:0:0:0:7") == "2001:db8::7")
        #expect(IPAddressText.canonical("2001:0db8::0007") == "2001:db8::7")
        #expect(IPAddressText.canonical("::ffff:5.254.43.18") == "5.254.43.18")
        #expect(IPAddressText.canonical("::FFFF:0536:2b12") == "5.54.43.18")
        #expect(IPAddressText.canonical("5.254.043.18") == nil)
        #expect(IPAddressText.canonical("evil.example") == nil)
        #expect(IPAddressText.canonical("") == nil)
        #expect(IPAddressText.canonicalSet(["5.254.43.18", "2001:DB8::7 "]) == ["5.254.43.18", "2001:db8::7"])
        // Other members stay as they are; a list with no address at all is plain text.
        #expect(IPAddressText.canonicalSet(["5.254.43.18", "evil.example", "198.051.100.9"]) == ["5.254.43.18", "evil.example", "198.051.100.9"])
        #expect(IPAddressText.canonicalSet(["evil.example"]) == nil)
        // Imported feeds: zero-padded octets are decimal, IPv6 in canonical form.
        #expect(IndicatorImporter.normalise(.ipv4, "198.051.100.009") == "198.51.100.9")
        #expect(IndicatorImporter.normalise(.ipv4, "5.254.43.18") == "5.254.43.18")
        #expect(IndicatorImporter.normalise(.ipv6, "2001:DB8:0:0:0:0:0:7") == "2001:db8::7")
        #expect(IPAddressText.lookupForm("::ffff:5.254.43.18") == "5.254.43.18")
        #expect(IPAddressText.lookupForm("::ffff:5.254.43.18%3") == "5.254.43.18")
        #expect(IPAddressText.lookupForm("fe80::1%12") == "fe80::1")
        #expect(IPAddressText.lookupForm("5.254.43.18") == "5.254.43.18")
        #expect(IPAddressText.lookupForm("::ffff:0536:2b12") == "::ffff:0536:2b12")
        #expect(IPAddressText.lookupForm("2001:db8:0:0:0:0:0:7") == "2001:db8:0:0:0:0:0:7")
    }

    /// The indicator ids an IIS line gets from the engine, with and without the prefilter's say.
    func hits(_ ip: String, engine: RuleEngine) throws -> (ids: [String], candidate: Bool) {
        var parser = W3CParser()
        _ = parser.parse(IISLog.header[3], line: 1)
        let line = IISLog.line("GET", "/owa/", ip: ip)
        let parsed = parser.parse(line, line: 2)
        let record = try #require(parsed)
        let ids = engine.match(record, format: .iisW3C).map(\.id).filter { $0.hasPrefix("IP-") }.sorted()
        let prefilter = try #require(engine.prefilter(for: .iisW3C))
        let bytes = Array(("x\n" + line + "\n").utf8)
        let ends = try #require(bytes.withUnsafeBufferPointer { prefilter.candidateLineEnds($0) })
        return (ids, ends.contains(bytes.count - 1))
    }

    @Test("a listed IPv4 address is found as a dual-stack IIS writes it, and the prefilter keeps the line")
    func mappedClients() throws {
        var pack = try BuiltInData.indicatorPack()
        pack.lists["volexity-ips"]? += ["2001:DB8:0::7", "FE80::1"]
        let engine = try RuleEngine(pack: pack)
        for ip in ["5.254.43.18", "::ffff:5.254.43.18", "::FFFF:5.254.43.18", "2001:db8::7", "fe80::1%12", "::ffff:5.254.43.18%4"] {
            let r = try hits(ip, engine: engine)
            #expect(r.ids == ["IP-054"], "\(ip): \(r.ids)")
            #expect(r.candidate, "\(ip) not a prefilter candidate")
        }
        // A member that is not an address does not stop the others from matching mapped clients.
        var mixed = try BuiltInData.indicatorPack()
        mixed.lists["volexity-ips"]? += ["198.051.100.9", "not-an-address"]
        let mixedEngine = try RuleEngine(pack: mixed)
        for ip in ["::ffff:5.254.43.18", "198.051.100.9", "not-an-address"] {
            let r = try hits(ip, engine: mixedEngine)
            #expect(r.ids == ["IP-054"] && r.candidate, "\(ip): \(r.ids)")
        }
        // Not listed, or another spelling of an IPv6 address than the canonical one: no hit.
        for ip in ["5.254.43.180", "15.254.43.18", "::ffff:5.254.43.19", "2001:db8:0:0:0:0:0:7", "2001:db8::70"] {
            #expect(try hits(ip, engine: engine).ids.isEmpty, "\(ip)")
        }
    }
}
