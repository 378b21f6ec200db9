namespace AccessLayer.Gateway.Admin;

/// <summary>The <c>Admin</c> section: the operator API under <c>/api/v1</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Bearer token the admin API requires; unset disables the API (403).</summary>
    public string? Token { get; set; }
}
