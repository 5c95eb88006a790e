import Foundation

/// An Exchange Server build number, `major.minor.build.revision` (e.g. `15.1.2176.9`).
///
/// Parses the short form (`15.1.2176.9`), the zero-padded long form logs write
/// (`15.01.2176.009`, `15.02.0721.013`), the comma form of HttpProxy version columns
/// (`15,1,2176,9`) and CU-level builds without a revision (`15.1.2176`, as in OWA paths such as
/// `/owa/auth/15.1.2176/`). ``description`` is always the short form. Builds compare field by
/// field; a missing revision sorts before revision 0.
public struct ExchangeBuild: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var major: Int
    public var minor: Int
    public var build: Int
    /// Nil when only the CU-level build is known (`15.1.2176`).
    public var revision: Int?

    public init(_ major: Int, _ minor: Int, _ build: Int, _ revision: Int? = nil) {
        self.major = major
        self.minor = minor
        self.build = build
        self.revision = revision
    }

    /// Parses a build string; nil when it is not 3 or 4 dot- or comma-separated numbers of at
    /// most 6 digits each, or when the major version is not 14 (Exchange 2010) or 15.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: trimmed.contains(",") ? "," : ".", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 3 || parts.count == 4,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        let n = parts.compactMap { Int($0) }
        guard n.count == parts.count, n[0] == 14 || n[0] == 15 else { return nil }
        self.init(n[0], n[1], n[2], n.count == 4 ? n[3] : nil)
    }

    /// Short form: `15.1.2176.9` (or `15.1.2176` without a revision).
    public var description: String {
        "\(major).\(minor).\(build)" + (revision.map { ".\($0)" } ?? "")
    }

    /// The same CU: major, minor and build parts equal.
    public func sameCU(as other: ExchangeBuild) -> Bool {
        major == other.major && minor == other.minor && build == other.build
    }

    public static func < (a: ExchangeBuild, b: ExchangeBuild) -> Bool {
        if a.major != b.major { return a.major < b.major }
        if a.minor != b.minor { return a.minor < b.minor }
        if a.build != b.build { return a.build < b.build }
        return (a.revision ?? -1) < (b.revision ?? -1)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let b = ExchangeBuild(parsing: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an Exchange build such as 15.1.2176.9, got \"\(s.prefix(40))\"")
        }
        self = b
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One row of the build table: an Exchange version or cumulative update and the first build of
/// it that carries the March 2021 fixes (CVE-2021-26855, -26857, -26858, -27065).
public struct BuildTableRow: Sendable, Equatable {
    /// Product, e.g. `Exchange 2016`.
    public var product: String
    /// CU name, e.g. `CU19`, `SP1 (CU4)`, `SP3`.
    public var cu: String
    /// The build of the CU as released (its RTM build), e.g. `15.1.2176.2`.
    public var cuBuild: ExchangeBuild
    /// The first fixed build of this CU (the March 2021 SU, or the CU itself when it shipped
    /// with the fix); nil when no fix was released for this CU (upgrade the CU).
    public var firstFixed: ExchangeBuild?
    /// Remarks, e.g. which source gives which build.
    public var note: String

    /// The last build of this CU that is still vulnerable: the fixed build with its revision
    /// minus one; nil when the CU shipped fixed or has no fix.
    public var lastVulnerable: ExchangeBuild? {
        guard let fixed = firstFixed, let rev = fixed.revision, fixed != cuBuild, rev > 0 else { return nil }
        return ExchangeBuild(fixed.major, fixed.minor, fixed.build, rev - 1)
    }
}

/// What the build alone says about the March 2021 vulnerabilities.
public enum BuildAssessment: Sendable, Equatable {
    /// At or above the first fixed build of its CU.
    case fixed(build: ExchangeBuild, fixedBuild: ExchangeBuild, row: BuildTableRow?)
    /// Below the fixed build of its CU, or a CU (or version) for which no fix exists.
    case vulnerable(build: ExchangeBuild, reason: String)
    /// The table cannot tell (an unknown CU, or a CU-level build without the revision for a
    /// CU whose fix is a security update).
    case undetermined(build: ExchangeBuild, reason: String)

    /// A short reason, e.g. `build 15.1.2176.9 ≥ fixed 15.1.2176.9`.
    public var reason: String {
        switch self {
        case let .fixed(build, fixed, _): "build \(build) ≥ fixed \(fixed)"
        case let .vulnerable(_, reason), let .undetermined(_, reason): reason
        }
    }
}

/// The March 2021 build table of `../shared/knowledge/proxylogon.md` §3.2.
///
/// Sources: Health Checker's fixed-build dictionary
/// (https://github.com/microsoft/CSS-Exchange/blob/main/Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecurityCveCheck.ps1),
/// Microsoft's "Exchange Server build numbers and release dates"
/// (https://docs.microsoft.com/en-us/exchange/new-features/build-numbers-and-release-dates),
/// KB5000871 (https://support.microsoft.com/en-us/topic/description-of-the-security-update-for-microsoft-exchange-server-2019-2016-and-2013-march-2-2021-kb5000871-9800a6bb-0a21-4ee7-b9da-fa85b3e1d23b)
/// and KB5000978 for Exchange 2010 SP3
/// (https://support.microsoft.com/en-us/topic/description-of-the-security-update-for-microsoft-exchange-server-2010-service-pack-3-march-2-2021-kb5000978-894f27bf-281e-44f8-b9ba-dad705534459).
///
/// Rules: a build at or above the first fixed build of the same CU is fixed; a build of a listed
/// CU without a fix, and of an unlisted CU older than the listed ones (Exchange 2013: older than
/// CU23), is vulnerable; every CU released after 2016 CU20 and 2019 CU9 shipped with the fix
/// and is listed in ``laterCUs``. Any other build is *not in the build table* and gives no patch
/// state: above the newest CU the table knows for its version (a mistyped `15.1.22424.4`, or a
/// CU newer than this table), between listed CUs where no CU was released, or of a version
/// the table does not have; `incident server set` refuses such a build (see
/// ``notInTableReason(_:)``).
public enum BuildTable {
    private static func b(_ s: String) -> ExchangeBuild { ExchangeBuild(parsing: s)! }

    /// Every row of §3.2 with a CU build, in version order.
    public static let rows: [BuildTableRow] = [
        BuildTableRow(product: "Exchange 2010", cu: "SP3", cuBuild: b("14.3.123.4"), firstFixed: b("14.3.513.0"),
                      note: "Update Rollup 32 (KB5000978) fixes CVE-2021-26857 only; 2010 is not exposed to the other three"),
        BuildTableRow(product: "Exchange 2013", cu: "CU20", cuBuild: b("15.0.1367.3"), firstFixed: nil,
                      note: "no fix for 2013 RTM, CU1–CU3, CU5–CU20: upgrade to CU23 and install the SU"),
        BuildTableRow(product: "Exchange 2013", cu: "SP1 (CU4)", cuBuild: b("15.0.847.32"), firstFixed: b("15.0.847.64"),
                      note: "per Microsoft's build list; not in Health Checker"),
        BuildTableRow(product: "Exchange 2013", cu: "CU21", cuBuild: b("15.0.1395.4"), firstFixed: b("15.0.1395.12"), note: ""),
        BuildTableRow(product: "Exchange 2013", cu: "CU22", cuBuild: b("15.0.1473.3"), firstFixed: b("15.0.1473.6"), note: ""),
        BuildTableRow(product: "Exchange 2013", cu: "CU23", cuBuild: b("15.0.1497.2"), firstFixed: b("15.0.1497.12"), note: "Apr21SU 15.0.1497.15"),
        BuildTableRow(product: "Exchange 2016", cu: "CU7", cuBuild: b("15.1.1261.35"), firstFixed: nil,
                      note: "no fix for 2016 RTM, CU1–CU7: upgrade the CU and install the SU"),
        BuildTableRow(product: "Exchange 2016", cu: "CU8", cuBuild: b("15.1.1415.2"), firstFixed: b("15.1.1415.8"),
                      note: "Health Checker 15.1.1415.8, Microsoft's build list 15.1.1415.10; ≥ .8 counts as fixed"),
        BuildTableRow(product: "Exchange 2016", cu: "CU9", cuBuild: b("15.1.1466.3"), firstFixed: b("15.1.1466.13"),
                      note: "Health Checker 15.1.1466.13, Microsoft's build list 15.1.1466.16; ≥ .13 counts as fixed"),
        BuildTableRow(product: "Exchange 2016", cu: "CU10", cuBuild: b("15.1.1531.3"), firstFixed: b("15.1.1531.12"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU11", cuBuild: b("15.1.1591.10"), firstFixed: b("15.1.1591.18"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU12", cuBuild: b("15.1.1713.5"), firstFixed: b("15.1.1713.10"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU13", cuBuild: b("15.1.1779.2"), firstFixed: b("15.1.1779.8"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU14", cuBuild: b("15.1.1847.3"), firstFixed: b("15.1.1847.12"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU15", cuBuild: b("15.1.1913.5"), firstFixed: b("15.1.1913.12"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU16", cuBuild: b("15.1.1979.3"), firstFixed: b("15.1.1979.8"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU17", cuBuild: b("15.1.2044.4"), firstFixed: b("15.1.2044.13"), note: ""),
        BuildTableRow(product: "Exchange 2016", cu: "CU18", cuBuild: b("15.1.2106.2"), firstFixed: b("15.1.2106.13"), note: "supported CU in March 2021"),
        BuildTableRow(product: "Exchange 2016", cu: "CU19", cuBuild: b("15.1.2176.2"), firstFixed: b("15.1.2176.9"), note: "supported; Apr21SU 15.1.2176.12"),
        BuildTableRow(product: "Exchange 2016", cu: "CU20", cuBuild: b("15.1.2242.4"), firstFixed: b("15.1.2242.4"), note: "fixed at release (2021-03-16)"),
        BuildTableRow(product: "Exchange 2019", cu: "RTM", cuBuild: b("15.2.221.12"), firstFixed: b("15.2.221.18"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU1", cuBuild: b("15.2.330.5"), firstFixed: b("15.2.330.11"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU2", cuBuild: b("15.2.397.3"), firstFixed: b("15.2.397.11"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU3", cuBuild: b("15.2.464.5"), firstFixed: b("15.2.464.15"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU4", cuBuild: b("15.2.529.5"), firstFixed: b("15.2.529.13"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU5", cuBuild: b("15.2.595.3"), firstFixed: b("15.2.595.8"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU6", cuBuild: b("15.2.659.4"), firstFixed: b("15.2.659.12"), note: ""),
        BuildTableRow(product: "Exchange 2019", cu: "CU7", cuBuild: b("15.2.721.2"), firstFixed: b("15.2.721.13"), note: "supported CU in March 2021"),
        BuildTableRow(product: "Exchange 2019", cu: "CU8", cuBuild: b("15.2.792.3"), firstFixed: b("15.2.792.10"), note: "supported; Apr21SU 15.2.792.13"),
        BuildTableRow(product: "Exchange 2019", cu: "CU9", cuBuild: b("15.2.858.5"), firstFixed: b("15.2.858.5"), note: "fixed at release (2021-03-16)"),
    ]

    /// The CUs released after 2016 CU20 and 2019 CU9 (not in §3.2, since all of them shipped
    /// with the March 2021 fixes), so that a build of any real later CU is known and one above
    /// the newest is not. Exchange Server SE is version 15.2 too (from build 2562). Source:
    /// CSS-Exchange's build dictionary
    /// (https://github.com/microsoft/CSS-Exchange/blob/main/Shared/Get-ExchangeBuildVersionInformation.ps1)
    /// and Microsoft's "Exchange Server build numbers and release dates".
    public static let laterCUs: [BuildTableRow] = [
        BuildTableRow(product: "Exchange 2016", cu: "CU21", cuBuild: b("15.1.2308.8"), firstFixed: b("15.1.2308.8"), note: "2021-06-29"),
        BuildTableRow(product: "Exchange 2016", cu: "CU22", cuBuild: b("15.1.2375.7"), firstFixed: b("15.1.2375.7"), note: "2021-09-28"),
        BuildTableRow(product: "Exchange 2016", cu: "CU23", cuBuild: b("15.1.2507.6"), firstFixed: b("15.1.2507.6"), note: "2022-04-20, the last 2016 CU"),
        BuildTableRow(product: "Exchange 2019", cu: "CU10", cuBuild: b("15.2.922.7"), firstFixed: b("15.2.922.7"), note: "2021-06-29"),
        BuildTableRow(product: "Exchange 2019", cu: "CU11", cuBuild: b("15.2.986.5"), firstFixed: b("15.2.986.5"), note: "2021-09-28"),
        BuildTableRow(product: "Exchange 2019", cu: "CU12", cuBuild: b("15.2.1118.7"), firstFixed: b("15.2.1118.7"), note: "2022-04-20"),
        BuildTableRow(product: "Exchange 2019", cu: "CU13", cuBuild: b("15.2.1258.12"), firstFixed: b("15.2.1258.12"), note: "2023-05-03"),
        BuildTableRow(product: "Exchange 2019", cu: "CU14", cuBuild: b("15.2.1544.4"), firstFixed: b("15.2.1544.4"), note: "2024-02-13"),
        BuildTableRow(product: "Exchange 2019", cu: "CU15", cuBuild: b("15.2.1748.10"), firstFixed: b("15.2.1748.10"), note: "2025-02-10, the last 2019 CU"),
        BuildTableRow(product: "Exchange SE", cu: "RTM", cuBuild: b("15.2.2562.17"), firstFixed: b("15.2.2562.17"), note: "2025-07-01"),
    ]

    /// The row of the CU a build belongs to (same major, minor and build part), if listed in
    /// ``rows`` or ``laterCUs``.
    public static func row(for build: ExchangeBuild) -> BuildTableRow? {
        rows.first { $0.cuBuild.sameCU(as: build) } ?? laterCUs.first { $0.cuBuild.sameCU(as: build) }
    }

    /// The newest CU the table lists for a build's version (major and minor), if any.
    public static func newestCU(major: Int, minor: Int) -> BuildTableRow? {
        (rows + laterCUs).filter { $0.cuBuild.major == major && $0.cuBuild.minor == minor }.max { $0.cuBuild < $1.cuBuild }
    }

    /// Why a build is not in the build table (the patch state it gives is `unknown`), or nil
    /// for a build the table knows: a listed CU, an older unlisted CU the table knows to be
    /// vulnerable, or an Exchange 2010 rollup up to SP3 RU32. `incident server set --build`
    /// and the console's `b` refuse a build with a reason, so a mistyped build
    /// (`15.1.22424.4` for `15.1.2242.4`) is never recorded.
    public static func notInTableReason(_ build: ExchangeBuild) -> String? {
        if case let .undetermined(_, reason) = assess(build), reason.hasPrefix(notInTablePrefix) { return reason }
        return nil
    }

    /// How every "not in the build table" reason starts.
    public static let notInTablePrefix = "build not in the build table: "

    private static let readExSetup = "check the build (ExSetup.exe's file version: Get-Command ExSetup.exe | % { $_.FileVersionInfo.FileVersion })"

    /// Assesses a build against the table.
    ///
    /// A CU-level build without a revision (from logs) can show a CU unpatched — a CU without a
    /// fix, or a build part of an unlisted older CU — and a CU that shipped fixed (2016 CU20,
    /// 2019 CU9 and later), but never that a security update is installed.
    public static func assess(_ build: ExchangeBuild) -> BuildAssessment {
        let product: String
        switch (build.major, build.minor) {
        case (14, _): product = "Exchange 2010"
        case (15, 0): product = "Exchange 2013"
        case (15, 1): product = "Exchange 2016"
        case (15, 2): product = "Exchange 2019"
        default: return .undetermined(build: build, reason: notInTablePrefix + "\(build) is not Exchange 2010, 2013, 2016, 2019 or SE; \(readExSetup)")
        }
        if build.major == 14 {
            // Exchange 2010: only SP3 got a fix (Update Rollup 32); every rollup before it is vulnerable.
            let fixed = rows[0].firstFixed!
            guard build.minor >= 3 else {
                return .vulnerable(build: build, reason: "build \(build) is Exchange 2010 before SP3, for which no fix was released: install SP3 and Update Rollup 32")
            }
            // RU32 was the last Exchange 2010 update: a later build is a typo.
            guard build.minor == 3, build.build <= fixed.build else {
                return .undetermined(build: build, reason: notInTablePrefix + "\(build) is above Exchange 2010 SP3 Update Rollup 32 (\(fixed)), the last Exchange 2010 update; \(readExSetup)")
            }
            guard build.revision != nil || build.build != fixed.build else {
                return .undetermined(build: build, reason: "build \(build) is not a known Exchange 2010 SP3 build")
            }
            if build >= fixed { return .fixed(build: build, fixedBuild: fixed, row: rows[0]) }
            return .vulnerable(build: build, reason: "build \(build) < fixed \(fixed) (Exchange 2010 SP3 Update Rollup 32, CVE-2021-26857)")
        }
        if let row = row(for: build) {
            guard let fixed = row.firstFixed else {
                return .vulnerable(build: build, reason: "build \(build) is \(product) \(row.cu) or older, for which no fix was released: upgrade the CU, then install the SU")
            }
            if fixed == row.cuBuild { return .fixed(build: build, fixedBuild: fixed, row: row) }
            guard build.revision != nil else {
                return .undetermined(build: build, reason: "build \(build) shows \(product) \(row.cu) but not its security update (fixed from \(fixed)): read ExSetup.exe's version")
            }
            if build >= fixed { return .fixed(build: build, fixedBuild: fixed, row: row) }
            return .vulnerable(build: build, reason: "build \(build) < fixed \(fixed) (\(product) \(row.cu))")
        }
        let listed = rows.filter { $0.cuBuild.major == build.major && $0.cuBuild.minor == build.minor }
        // Above the newest CU the table knows: a typo (`15.1.22424.4`) or a CU newer than the
        // table. Never "patched": the build says nothing the table can check.
        if let newest = newestCU(major: build.major, minor: build.minor), build.build > newest.cuBuild.build {
            return .undetermined(build: build, reason: notInTablePrefix + "\(build) is above \(newest.product) \(newest.cu) (\(newest.cuBuild)), the newest \(build.major).\(build.minor) CU it lists; \(readExSetup)")
        }
        // Builds of an unlisted CU older than the listed ones (Exchange 2013: than CU23) had no fix.
        if let newest = listed.last, build.build < newest.cuBuild.build,
           let oldest = listed.first, build.build < oldest.cuBuild.build || product == "Exchange 2013" {
            return .vulnerable(build: build, reason: "build \(build) is an \(product) CU for which no fix was released: upgrade the CU, then install the SU")
        }
        return .undetermined(build: build, reason: notInTablePrefix + "\(build) is no \(product) CU the table lists (none was released with this build number); \(readExSetup)")
    }
}
