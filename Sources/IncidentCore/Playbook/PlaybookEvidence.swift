/// Which indicator hits stand behind a remediation step: the console jumps from a step to them.
///
/// A step relates to the stages of the intrusion it answers (knowledge file §4, CISA ED 21-02
/// https://cyber.dhs.gov/ed/21-02/ and Microsoft's HAFNIUM guidance
/// https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/):
/// - `test-proxylogon`, `patch`, `interim-mitigation`: the CVE chain itself — attempts and
///   successful exploitation (what Test-ProxyLogon reports, what the patch closes);
/// - `msert`, `web-shells`: web shells (MSERT and the manual search remove them);
/// - `post-exploitation`, `credentials`: post-exploitation (LSASS dumps, staging archives: the
///   reason credentials are reset);
/// - `contain`, `rebuild`, `report`, `preserve`: every stage that shows an intrusion
///   (exploitation, web shell, post-exploitation) — the findings that force containment and rebuild
///   and that the report and images must cover;
/// - `log-coverage`: every stage (the hits show which logs were read);
/// - `inventory`, `harden`: none.
public extension PlaybookStep {
    /// Stages of the hits behind this step (empty when no hit relates to it). Steps of a
    /// playbook not known here relate to no stage.
    var relatedStages: [Stage] {
        switch id {
        case "test-proxylogon", "patch", "interim-mitigation": [.attempt, .exploitation]
        case "msert", "web-shells": [.webShell]
        case "post-exploitation", "credentials": [.postExploitation]
        case "contain", "rebuild", "report", "preserve": [.exploitation, .webShell, .postExploitation]
        case "log-coverage": Stage.allCases
        default: []
        }
    }
}
