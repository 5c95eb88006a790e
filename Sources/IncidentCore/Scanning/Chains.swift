import Foundation

/// A step of the ProxyLogon intrusion chain, in the order an attack moves through them:
/// probes and attempts → entry (CVE-2021-26855 SSRF; also the ProxyShell / ProxyNotShell SSRFs and
/// CVE-2021-26857) → file write (CVE-2021-27065 / CVE-2021-26858) → web shell on disk → web shell
/// requested → post-exploitation. Source of the sequence: `../shared/knowledge/proxylogon.md`
/// §1.1–§1.4 and https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/
public enum ChainStage: String, CaseIterable, Codable, Sendable, Comparable {
    case attempt
    case entry
    case fileWrite = "file-write"
    case webShellOnDisk = "web-shell-on-disk"
    case webShellRequested = "web-shell-requested"
    case postExploitation = "post-exploitation"

    /// Position along the chain, from 0 (`attempt`) to 5 (`post-exploitation`).
    public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (a: ChainStage, b: ChainStage) -> Bool { a.rank < b.rank }

    /// Short description for the console.
    public var title: String {
        switch self {
        case .attempt: "probes and attempts"
        case .entry: "entry: SSRF / pre-auth exploitation"
        case .fileWrite: "file write (CVE-2021-27065 / CVE-2021-26858)"
        case .webShellOnDisk: "web shell on disk"
        case .webShellRequested: "web shell requested"
        case .postExploitation: "post-exploitation"
        }
    }

    /// Where one hit sits in the chain: `probe`/`attempt` hits → `attempt`; `exploitation` hits
    /// of CVE-2021-27065/-26858 → `file-write`, other exploitation → `entry`; `web-shell` hits
    /// from request logs (IIS, HttpProxy) → `web-shell-requested`, from ECP/OAB logs →
    /// `file-write`, from anything else (inventories, collected files) → `web-shell-on-disk`;
    /// `post-exploitation` → `post-exploitation`.
    /// - Parameter format: the format of the hit's evidence file, when known.
    public static func of(_ hit: Hit, format: EvidenceFormat?) -> ChainStage {
        switch hit.stage {
        case .probe, .attempt: return .attempt
        case .postExploitation: return .postExploitation
        case .exploitation:
            switch hit.cve {
            case "CVE-2021-27065", "CVE-2021-26858": return .fileWrite
            default: return .entry
            }
        case .webShell:
            switch format {
            case .iisW3C?, .httpProxy?: return .webShellRequested
            case .oabGenerator?, .ecpServer?: return .fileWrite
            default: return .webShellOnDisk
            }
        }
    }
}

/// One reached step of a server's chain.
///
/// JSON shape (`servers[].chain[]` in `incident scan --format json`): `stage`, `hits`,
/// `firstSeen` / `lastSeen` (ISO-8601 UTC or null), `clientIps`, `indicators`, `cves`.
public struct ChainLink: Sendable, Equatable {
    public var stage: ChainStage
    /// Counted hits at `low` or above in this step.
    public var hits: Int
    /// Earliest and latest dated hit (UTC); nil when no hit of the step carries a time (file inventories).
    public var firstSeen: Date?
    public var lastSeen: Date?
    /// Client addresses of the step's hits, sorted, without duplicates.
    public var clientIPs: [String]
    /// Indicator ids, sorted, without duplicates.
    public var indicators: [String]
    /// CVE ids or campaign labels, sorted, without duplicates.
    public var cves: [String]
}

/// Groups a server's hits into the chain.
public enum Chains {
    /// The chain steps reached by a server's counted hits, in chain order (steps without hits are left out).
    /// - Parameters:
    ///   - hits: one server's counted hits; `info` hits are ignored.
    ///   - formats: evidence path (relative to the case folder) → its format.
    ///
    /// An `attempt` hit on the same evidence line as a hit of a later stage (a Volexity address
    /// or a tool's user agent on a web-shell request, PL-011 on the CVE-2021-27065 line) is part
    /// of that step, not a probe: it goes with the line's furthest stage.
    public static func build(hits: [Hit], formats: [String: EvidenceFormat]) -> [ChainLink] {
        struct Line: Hashable { let evidence: String; let line: Int }
        var staged: [(Hit, ChainStage)] = []
        var furthest: [Line: ChainStage] = [:]
        for hit in hits where hit.severity >= .low {
            // A low hit of a late stage is a review item (a file missing from the baseline, a
            // Test-ProxyLogon "other" row), not a step of the intrusion: see Verdicts.toReview.
            if hit.severity == .low, hit.stage == .exploitation || hit.stage == .webShell || hit.stage == .postExploitation { continue }
            let stage = ChainStage.of(hit, format: formats[hit.evidence])
            staged.append((hit, stage))
            let key = Line(evidence: hit.evidence, line: hit.line)
            if furthest[key].map({ stage > $0 }) ?? true { furthest[key] = stage }
        }
        var groups: [ChainStage: [Hit]] = [:]
        for (hit, stage) in staged {
            let placed = stage == .attempt ? (furthest[Line(evidence: hit.evidence, line: hit.line)] ?? stage) : stage
            groups[placed, default: []].append(hit)
        }
        return ChainStage.allCases.compactMap { stage in
            guard let group = groups[stage] else { return nil }
            let times = group.compactMap(\.time)
            return ChainLink(stage: stage, hits: group.count, firstSeen: times.min(), lastSeen: times.max(),
                             clientIPs: Array(Set(group.compactMap(\.clientIP).filter { !$0.isEmpty && $0 != "-" })).sorted(),
                             indicators: Array(Set(group.map(\.indicator))).sorted(),
                             cves: Array(Set(group.compactMap(\.cve))).sorted())
        }
    }
}
