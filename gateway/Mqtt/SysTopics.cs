namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// <c>$SYS/...</c> belongs to the broker (its retained status topics): a client publishing there, or
/// leaving a will there, would spoof the broker's own figures, so it is refused whatever the ACL says.
/// </summary>
internal static class SysTopics
{
    public const string Root = "$SYS";

    public static bool IsSys(string topic) =>
        topic.StartsWith(Root, StringComparison.Ordinal) && (topic.Length == Root.Length || topic[Root.Length] == '/');
}
