import Foundation
import IncidentCore
import Testing
@testable import ConsoleUI
import TerminalCore

@Suite("Filter, sort, jumps")
struct NavigationTests {
    @Test("/ filters servers by name or verdict; the title shows it; Esc clears it")
    func filterServers() throws {
        var state = try demoState()
        _ = press(&state, .character("/"))
        #expect(state.prompt?.label == "filter servers:")
        _ = type(&state, "probed")
        _ = press(&state, .enter)
        #expect(state.servers.map(\.name) == ["EXCH02"])
        #expect(state.message == "1 of 3 server(s) match")
        #expect(render(state).row(0).hasPrefix("┌─ Servers (1/3) /probed ● ─"))
        _ = press(&state, .character("/"), .ctrl("u"))
        _ = type(&state, "exch01 | exch03")
        _ = press(&state, .enter)
        #expect(state.servers.map(\.name) == ["EXCH01", "EXCH03"])
        _ = press(&state, .escape)
        #expect(state.servers.count == 3)
        #expect(state.filters[.servers] == nil)
        #expect(render(state).row(0).hasPrefix("┌─ Servers (3) ● ─"))
    }

    @Test("/ filters hits by indicator, severity, stage and text; the selection stays on its hit")
    func filterHits() throws {
        var state = try demoState(cols: 120, rows: 30)
        _ = press(&state, .tab)
        let all = state.hitsOfSelectedServer
        #expect(all.count == 69)
        _ = press(&state, .character("/"))
        _ = type(&state, "sev:crit")
        _ = press(&state, .enter)
        let crit = all.filter { $0.severity == .critical }
        #expect(state.hitsOfSelectedServer.map(\.id) == crit.map(\.id))
        #expect(state.message == "\(crit.count) of 69 hit(s) match")
        #expect(render(state).text().contains("Indicator hits: EXCH01 (\(crit.count)/69) /sev:crit ●"))
        _ = press(&state, .character("/"), .ctrl("u"))
        _ = type(&state, "stage:web-shell")
        _ = press(&state, .enter)
        #expect(state.hitsOfSelectedServer.map(\.id) == all.filter { $0.stage == .webShell }.map(\.id))
        _ = press(&state, .character("/"), .ctrl("u"))
        _ = type(&state, "PL-001")
        _ = press(&state, .enter)
        #expect(!state.hitsOfSelectedServer.isEmpty)
        #expect(state.hitsOfSelectedServer.allSatisfy { $0.indicator.contains("PL-001") || $0.rawLine.localizedCaseInsensitiveContains("PL-001") || $0.value.localizedCaseInsensitiveContains("pl-001") })
        _ = press(&state, .character("/"), .ctrl("u"))
        _ = type(&state, "no-such-thing-anywhere")
        _ = press(&state, .enter)
        #expect(state.hitsOfSelectedServer.isEmpty)
        #expect(render(state).text().contains("no hit of this server matches the filter (Esc clears it)"))
        _ = press(&state, .escape)
        #expect(state.hitsOfSelectedServer.count == 69)
    }

    @Test("the filter parser: fields, alternatives, case")
    func parser() throws {
        let (snapshot, _, _) = try demoSnapshot()
        let hit = try #require(snapshot.hits.first { $0.severity == .critical && $0.stage == .webShell })
        #expect(ListFilter("").isEmpty)
        #expect(ListFilter("  | ").isEmpty)
        #expect(ListFilter("CRIT").matches(hit))
        #expect(ListFilter("sev:critical stage:web-shell").matches(hit))
        #expect(!ListFilter("sev:low").matches(hit))
        #expect(ListFilter("sev:low | ind:\(hit.indicator.lowercased())").matches(hit))
        #expect(!ListFilter("verdict:compromised").matches(hit))
        let server = try #require(snapshot.summaries.first { $0.name == "EXCH02" })
        #expect(ListFilter("verdict:PROBED").matches(server))
        #expect(ListFilter("name:exch").matches(server))
        #expect(!ListFilter("name:probed").matches(server))
    }

    @Test("s cycles the sort of the focused pane and keeps the selection")
    func sort() throws {
        var state = try demoState()
        #expect(state.servers.map(\.name) == ["EXCH01", "EXCH02", "EXCH03"])
        _ = press(&state, .character("j"), .character("s"))
        #expect(state.serverSort == .name)
        #expect(state.selectedServer?.name == "EXCH02")
        _ = press(&state, .character("s"))
        #expect(state.serverSort == .hits)
        #expect(state.servers.map(\.name) == ["EXCH01", "EXCH02", "EXCH03"])
        _ = press(&state, .character("s"))
        #expect(state.serverSort == .progress)
        #expect(render(state).row(0).contains("Servers (3) by progress"))
        _ = press(&state, .character("s"))
        #expect(state.serverSort == .verdict)
        _ = press(&state, .character("g"), .tab)
        let selected = try #require(state.selectedHit)
        _ = press(&state, .character("s"))
        #expect(state.hitSort == .time)
        #expect(state.selectedHit?.id == selected.id)
        let times = state.hitsOfSelectedServer.compactMap(\.time)
        #expect(times == times.sorted(by: >))
        _ = press(&state, .character("s"))
        #expect(state.hitSort == .indicator)
        let ids = state.hitsOfSelectedServer.map(\.indicator)
        #expect(ids == ids.sorted { $0.localizedStandardCompare($1) == .orderedAscending })
        _ = press(&state, .character("s"))
        #expect(state.hitSort == .evidence)
        let places = state.hitsOfSelectedServer.map { "\($0.evidence)#\(String(format: "%08d", $0.line))" }
        #expect(places == places.sorted())
        _ = press(&state, .backTab, .backTab)
        #expect(state.focus == .checklist)
        _ = press(&state, .character("s"))
        #expect(state.message == "the checklist keeps the playbook's order")
    }

    @Test("n/N walk the servers with hits matching the hits filter")
    func nextMatch() throws {
        var state = try demoState()
        _ = press(&state, .character("n"))
        #expect(state.selectedServer?.name == "EXCH02")
        _ = press(&state, .character("n"))
        // EXCH03 has no counted hits: n wraps round to EXCH01.
        #expect(state.selectedServer?.name == "EXCH01")
        _ = press(&state, .character("N"))
        #expect(state.selectedServer?.name == "EXCH02")
        // A hits filter only EXCH01 matches.
        _ = press(&state, .tab, .character("/"))
        _ = type(&state, "stage:web-shell")
        _ = press(&state, .enter)
        #expect(state.hitsOfSelectedServer.isEmpty)
        _ = press(&state, .character("n"))
        #expect(state.selectedServer?.name == "EXCH01")
        #expect(!state.hitsOfSelectedServer.isEmpty)
        #expect(state.focus == .hits)
        _ = press(&state, .character("n"))
        #expect(state.selectedServer?.name == "EXCH01")
        #expect(state.message == "no other server has hits matching /stage:web-shell")
    }

    @Test("o jumps from a hit to its server and from a checklist step to the hits behind it")
    func jumps() throws {
        var state = try demoState()
        // Hide EXCH01 from the servers pane, pick a hit, jump.
        _ = press(&state, .character("/"))
        _ = type(&state, "exch01")
        _ = press(&state, .enter, .tab, .character("j"), .character("j"))
        let hit = try #require(state.selectedHit)
        _ = press(&state, .character("o"))
        #expect(state.focus == .servers)
        #expect(state.selectedServer?.name == hit.server)
        #expect(state.selectedHit?.id == hit.id)
        // Checklist: "Find and remove web shells" → the web-shell hits.
        _ = press(&state, .backTab)
        let index = try #require(state.playbook.steps.firstIndex { $0.id == "web-shells" })
        state.stepIndex = index
        _ = press(&state, .character("o"))
        #expect(state.focus == .hits)
        #expect(state.filters[.hits] == "stage:web-shell")
        let all = state.allHits(ofServer: "EXCH01")
        #expect(state.hitsOfSelectedServer.map(\.id) == all.filter { $0.stage == .webShell }.map(\.id))
        #expect(state.message?.hasPrefix("hits behind \"Find and remove web shells\": ") == true)
        // A step with no related hits says so.
        _ = press(&state, .tab)
        state.stepIndex = 0
        _ = press(&state, .character("o"))
        #expect(state.message == "no indicator hits relate to \"Inventory the server\"")
    }

    @Test("every playbook step's related stages are defined (inventory and harden have none)")
    func stepStages() throws {
        let playbook = try Playbook.builtIn()
        let none = playbook.steps.filter { $0.relatedStages.isEmpty }.map(\.id)
        #expect(none == ["inventory", "harden"])
    }

    @Test("Enter on a hit asks for the lines around it; the detail view shows them sanitised")
    func detailExcerpt() throws {
        var state = try demoState(cols: 120, rows: 40)
        _ = press(&state, .tab)
        let index = try #require(state.hitsOfSelectedServer.firstIndex { $0.evidence.hasSuffix("u_ex210303.log") && $0.line == 24 && $0.indicator == "IIS-063" })
        state.hitIndex = index
        let hit = try #require(state.selectedHit)
        let effects = press(&state, .enter)
        #expect(effects == [.readExcerpt(path: hit.evidence, line: 24)])
        #expect(render(state).text().contains("Reading the lines around line 24…"))
        let excerpt = EvidenceExcerpt(path: hit.evidence, centre: 24, lines: [
            .init(number: 23, text: "before\u{1B}[31m", droppedBytes: 0),
            .init(number: 24, text: hit.rawLine, droppedBytes: 0),
            .init(number: 25, text: String(repeating: "x", count: 20), droppedBytes: 9_999_980),
        ], problem: nil)
        _ = update(&state, .excerpt(excerpt))
        _ = press(&state, .character("G"))
        let text = render(state).text()
        #expect(text.contains("Around line 24 of the evidence file:"))
        #expect(text.contains(" 23: before␛[31m"))
        #expect(text.contains("▶24: "))
        #expect(text.contains("xxxxxxxxxxxxxxxxxxxx … (9999980 more bytes)"))
        // An excerpt for another line is ignored.
        var other = excerpt
        other.centre = 3
        _ = press(&state, .escape, .enter)
        _ = update(&state, .excerpt(other))
        #expect(state.excerpt == nil)
    }
}
