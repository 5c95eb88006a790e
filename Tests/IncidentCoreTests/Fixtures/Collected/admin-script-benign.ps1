# Restart the transport service and show its process.
$p = Get-Process -Name MSExchangeTransport
[System.Diagnostics.Process]::GetProcessById($p.Id) | Format-List Id, StartTime
Restart-Service MSExchangeTransport
