import Foundation
import IncidentCore
import TerminalCore

/// Detail-view lines for a server's check coverage and intrusion chain: text and role.
/// Text here is built from indicator ids, dates and client addresses (attacker-influenced: the
/// caller sanitises it).
func coverageAndChainLines(_ server: ServerSummary) -> [(String, Role)] {
    var out: [(String, Role)] = []
    if let late = server.afterExposureEnd { out.append(("After the window: " + late.summary, .severityCritical)) }
    if !server.chain.isEmpty {
        out.append(("Chain:", .header))
        for link in server.chain {
            let when: String
            switch (link.firstSeen, link.lastSeen) {
            case let (a?, b?) where a == b: when = Timestamps.iso8601(a)
            case let (a?, b?): when = "\(Timestamps.iso8601(a)) – \(Timestamps.iso8601(b))"
            default: when = "no time"
            }
            let ips = link.clientIPs.isEmpty ? "" : " · from " + link.clientIPs.prefix(5).joined(separator: ", ")
                + (link.clientIPs.count > 5 ? " +\(link.clientIPs.count - 5)" : "")
            let role: Role = link.stage >= .webShellOnDisk ? .severityCritical : (link.stage >= .entry ? .severityHigh : .severityMedium)
            out.append(("  \(link.stage.rawValue): \(link.hits) hit(s) \(link.indicators.joined(separator: " ")) · \(when)\(ips)", role))
        }
    }
    if !server.coverage.isEmpty {
        out.append(("Checks:", .header))
        for c in server.coverage {
            let role: Role
            switch c.status {
            case .findings: role = .severityHigh
            case .noFindings: role = .normal
            case .insufficientCoverage, .notChecked: role = c.required ? .severityMedium : .muted
            }
            var range = ""
            if let from = c.from, let to = c.to { range = " [\(Timestamps.iso8601(from)) – \(Timestamps.iso8601(to))]" }
            out.append(("  \(c.status.rawValue): \(c.check.title)\(c.required ? "" : " (optional)")\(range) — \(c.reason)", role))
        }
    }
    return out
}
