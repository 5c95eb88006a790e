/*
  Built-in content signatures for collected files (web-shell copies, suspect .aspx/.ps1/.bat,
  anything under evidence/<server>/ that is not a recognised log format).
  Written for Incident Console from the published markers in ../shared/knowledge/proxylogon.md §2.4.
  Every rule carries: title, description, severity (info|low|medium|high|critical),
  stage (probe|attempt|exploitation|web-shell|post-exploitation), cve, source (URLs, space-separated),
  false_positives. A hit is reported as YARA:<rule name>.
*/

rule ChinaChopper_Eval_Unsafe
{
    meta:
        title = "China Chopper web shell: eval(Request[...], \"unsafe\")"
        description = "JScript page that evaluates a request parameter with the unsafe flag: the China Chopper one-liner HAFNIUM dropped (<%@ Page Language=\"Jscript\"%><%eval(Request.Item[...],\"unsafe\");%> and the <script runat=\"server\"> form). Remove the file after preserving it; look for requests to it in IIS logs."
        severity = "critical"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_webshell_chinachopper.yar https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        false_positives = "None known: legitimate pages do not eval request input."
    strings:
        $eval = /eval\s*\(\s*Request\s*(\.\s*(Item|Form|QueryString)\s*)?[\[\(]/ nocase ascii wide
        $unsafe = "unsafe" nocase ascii wide
    condition:
        filesize < 2MB and $eval and $unsafe
}

rule WebShell_Eval_Request
{
    meta:
        title = "Server page evaluating request input: eval(Request...)"
        description = "An ASP.NET page (<% or runat=\"server\") that passes request data to eval without China Chopper's \"unsafe\" flag: a variant or hand-made web shell."
        severity = "high"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_hafnium.yar"
        false_positives = "Rare: legacy classic-ASP pages that eval form fields."
    strings:
        $eval = /eval\s*\(\s*Request\s*[\.\[\(]/ nocase ascii wide
        $unsafe = "unsafe" nocase ascii wide
        $page1 = "<%" ascii wide
        $page2 = /runat\s*=\s*["']?server/ nocase ascii wide
    condition:
        filesize < 2MB and $eval and not $unsafe and any of ($page*)
}

rule OAB_VirtualDirectory_Dump_WebShell
{
    meta:
        title = "CVE-2021-27065 web shell: OAB virtual-directory settings dump with script"
        description = "A file written by the ECP 'reset virtual directory' action: the OAB virtual directory's properties (ExternalUrl/InternalUrl, InternalAuthenticationMethods, ExtendedProtectionTokenChecking) with a server script planted in the URL. This is the file CVE-2021-27065 drops as a web shell."
        severity = "critical"
        stage = "web-shell"
        cve = "CVE-2021-27065"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_hafnium.yar https://us-cert.cisa.gov/ncas/alerts/aa21-062a"
        false_positives = "A settings dump without script does not match."
    strings:
        $url1 = "ExternalUrl" nocase ascii wide
        $url2 = "InternalUrl" nocase ascii wide
        $p1 = "InternalAuthenticationMethods" nocase ascii wide
        $p2 = "ExtendedProtectionTokenChecking" nocase ascii wide
        $s1 = /<script[^>]{0,100}runat\s*=\s*["']?server/ nocase ascii wide
        $s2 = /<%@\s*Page\s+Language/ nocase ascii wide
        $s3 = "<%" ascii wide
    condition:
        filesize < 50KB and any of ($url*) and all of ($p*) and any of ($s*)
}

rule ExternalUrl_JScript_Payload
{
    meta:
        title = "CVE-2021-27065 payload: http://f/<script language=\"JScript\" runat=\"server\">"
        description = "The JScript payload HAFNIUM set as the OAB virtual directory's ExternalUrl (dummy host 'f'), found in a file: a dropped web shell or a copy of the attack's log line."
        severity = "critical"
        stage = "web-shell"
        cve = "CVE-2021-27065"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_hafnium.yar https://github.com/microsoft/CSS-Exchange/blob/main/Security/src/Test-ProxyLogon.ps1"
        false_positives = "Responder notes or reports that quote the payload."
    strings:
        $a = /https?:\/\/[a-z0-9.]{1,64}\/<script\s+language\s*=\s*["']?JScript["']?\s+runat\s*=\s*["']?server/ nocase ascii wide
    condition:
        $a
}

rule WebShell_Base64_Eval
{
    meta:
        title = "Web shell: eval of base64-decoded input"
        description = "A server page that decodes base64 (Convert.FromBase64String) and evaluates the result, the obfuscated China Chopper form."
        severity = "critical"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_webshell_chinachopper.yar"
        false_positives = "None known."
    strings:
        $a = /eval\s*\(\s*System\.Text\.Encoding\.[A-Za-z0-9]{2,16}\.GetString\s*\(\s*(System\.)?Convert\.FromBase64String\s*\(/ nocase ascii wide
        $b = /eval\s*\([^;]{0,200}FromBase64String\s*\(\s*Request/ nocase ascii wide
    condition:
        filesize < 2MB and any of them
}

rule WebShell_ASPX_Process_Start
{
    meta:
        title = "ASP.NET page that starts processes from request input"
        description = "A server page that creates a System.Diagnostics.Process (or ProcessStartInfo) and reads request data: a command-execution web shell."
        severity = "high"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_hafnium.yar https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        false_positives = "Custom admin pages that run tools; review the page."
    strings:
        $page1 = /<%@\s*Page/ nocase ascii wide
        $page2 = /runat\s*=\s*["']?server/ nocase ascii wide
        $proc1 = "System.Diagnostics.Process" nocase ascii wide
        $proc2 = "ProcessStartInfo" nocase ascii wide
        $req = /Request\s*(\.\s*(Form|QueryString|Item|Params|Headers)\s*)?[\[\(]/ nocase ascii wide
    condition:
        filesize < 2MB and any of ($page*) and any of ($proc*) and $req
}

rule SIMPLESEESHARP_Upload
{
    meta:
        title = "SIMPLESEESHARP upload web shell (Volexity)"
        description = "Tiny C# page that saves an uploaded file to a path the request names."
        severity = "critical"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        false_positives = "None known."
    strings:
        $a = "<% HttpPostedFile thisFile = Request.Files[0];thisFile.SaveAs(Path.Combine" ascii
    condition:
        filesize < 1KB and $a
}

rule SPORTSBALL_WebShell
{
    meta:
        title = "SPORTSBALL web shell (Volexity)"
        description = "Web shell Volexity found on compromised Exchange servers."
        severity = "critical"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        false_positives = "None known."
    strings:
        $a = "HttpCookie newcook = new HttpCookie(\"fqrspt\", HttpContext.Current.Request.Form" ascii wide
        $b = "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE=" ascii wide
    condition:
        any of them
}

rule reGeorg_Tunnel_Variant
{
    meta:
        title = "reGeorg tunnel web shell variant (Volexity)"
        description = "SOCKS tunnel page that reads base64 data from request headers."
        severity = "critical"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        false_positives = "None known."
    strings:
        $a = "System.Net.Sockets" ascii wide
        $b = "System.Text.Encoding.Default.GetString(Convert.FromBase64String(StrTr(Request.Headers.Get" ascii wide
    condition:
        all of them
}

rule SecChecker_WebShell
{
    meta:
        title = "SecChecker page: probes for EDR agents (HAFNIUM)"
        description = "Small page that reports which endpoint security products are installed (FireEye xagt.exe, CrowdStrike csfalconservice.exe), seen with HAFNIUM."
        severity = "critical"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_hafnium.yar"
        false_positives = "None known."
    strings:
        $a = "fireeye\\xagt.exe" nocase ascii wide
        $b = "csfalconservice.exe" nocase ascii wide
    condition:
        filesize < 1KB and uint16(0) == 0x253c and any of them
}

rule WebShell_Upload_Or_Writer
{
    meta:
        title = "Upload or file-writer web shell"
        description = "A page that saves an uploaded file under a server path (Request.Files[0].SaveAs(Server.MapPath(...))) or writes request data to a file (new StreamWriter(Request.Form[...]))."
        severity = "high"
        stage = "web-shell"
        cve = "HAFNIUM"
        source = "https://github.com/Neo23x0/signature-base/blob/master/yara/apt_hafnium.yar"
        false_positives = "Legitimate upload pages in custom web applications (not in Exchange folders)."
    strings:
        $upload1 = /runat\s*=\s*["']?server["']?\s*>\s*void\s+Page_Load\s*\(\s*object/ nocase ascii wide
        $upload2 = "Request.Files[0].SaveAs(Server.MapPath(" nocase ascii wide
        $writer1 = "new System.IO.StreamWriter(Request.Form[" nocase ascii wide
        $writer2 = ".Write(Request.Form[" nocase ascii wide
    condition:
        filesize < 2MB and (all of ($upload*) or all of ($writer*))
}
