rule Case_Dropper_Marker
{
    meta:
        title = "Dropper seen at this customer"
        severity = "critical"
        stage = "post-exploitation"
    strings:
        $a = "XK-DROP-7f3a91"
    condition:
        $a
}
