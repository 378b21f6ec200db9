using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Security;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Management;

/// <summary>Start-time checks that need more than one section: the management port is not a device port, the token file is readable.</summary>
internal sealed class ManagementOptionsValidator(IOptions<HttpOptions> http, IOptions<TlsOptions> tls) : IValidateOptions<ManagementOptions>
{
    public ValidateOptionsResult Validate(string? name, ManagementOptions options)
    {
        // Http:TlsPort is opened only with a certificate.
        if (options.Port > 0 && (options.Port == http.Value.Port || (tls.Value.IsConfigured && options.Port == http.Value.TlsPort)))
        {
            return ValidateOptionsResult.Fail($"Management:Port ({options.Port}) must differ from Http:Port and Http:TlsPort: the management surface never shares a port with devices.");
        }

        if (!string.IsNullOrEmpty(options.TokenFile))
        {
            try
            {
                _ = ManagementTokens.ReadFile(options.TokenFile).Count();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return ValidateOptionsResult.Fail($"Management:TokenFile '{options.TokenFile}' cannot be read: {ex.Message}");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
