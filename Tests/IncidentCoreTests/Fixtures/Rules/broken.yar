rule Broken_Rule
{
    strings: $a = "x"
    condition: $a and
}
