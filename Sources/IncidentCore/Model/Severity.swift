/// How serious an indicator hit is.
///
/// The scale follows the console's indicator catalog (`../shared/knowledge/proxylogon.md` §6):
/// `critical` is evidence of successful exploitation or attacker tooling on disk, `high` a strong
/// indicator that needs an analyst's confirmation, `medium` an attempt or scan, `low` context that
/// is prone to noise, `info` a fact worth seeing that never moves a verdict.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case info, low, medium, high, critical

    /// Rank from 0 (`info`) to 4 (`critical`).
    public var rank: Int {
        switch self {
        case .info: 0
        case .low: 1
        case .medium: 2
        case .high: 3
        case .critical: 4
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// Where in an intrusion an indicator sits.
///
/// `probe` is a scan for the vulnerability, `attempt` an exploitation attempt without proof of
/// success, `exploitation` a successful exploitation step (for example the CVE-2021-26855 SSRF
/// chain or a CVE-2021-27065 file write), `webShell` a web shell on disk or in use,
/// `postExploitation` what attackers did afterwards (credential dumps, archives, accounts).
public enum Stage: String, Codable, Sendable, CaseIterable, Comparable {
    case probe
    case attempt
    case exploitation
    case webShell = "web-shell"
    case postExploitation = "post-exploitation"

    /// Order along the intrusion, from 0 (`probe`) to 4 (`post-exploitation`).
    public var rank: Int {
        switch self {
        case .probe: 0
        case .attempt: 1
        case .exploitation: 2
        case .webShell: 3
        case .postExploitation: 4
        }
    }

    public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rank < rhs.rank }
}

/// A server's overall finding, derived from the hits on its evidence.
///
/// - `notAssessed`: no evidence, or none of its evidence could be read as a known format;
///   never shown as clean.
/// - `insufficientCoverage`: evidence was read and nothing was found, but a required check
///   (see ``CoverageCheck/required``) had no input or its logs do not reach back to the start of
///   the exposure window: the evidence cannot say the server is clean.
/// - `noFindings`: evidence was read and no hit at `low` or above remains after triage.
/// - `probed`: only scans or attempts (or `low` hits of any stage).
/// - `exploited`: a successful exploitation step.
/// - `compromised`: a web shell or post-exploitation artifact.
public enum Verdict: String, Codable, Sendable, CaseIterable, Comparable {
    case notAssessed = "not-assessed"
    case insufficientCoverage = "insufficient-coverage"
    case noFindings = "no-findings"
    case probed
    case exploited
    case compromised

    /// Order from 0 (`not-assessed`), 1 (`insufficient-coverage`) to 5 (`compromised`).
    public var rank: Int {
        switch self {
        case .notAssessed: 0
        case .insufficientCoverage: 1
        case .noFindings: 2
        case .probed: 3
        case .exploited: 4
        case .compromised: 5
        }
    }

    public static func < (lhs: Verdict, rhs: Verdict) -> Bool { lhs.rank < rhs.rank }
}
