using System.Net;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace AccessLayer.Gateway.Transport;

/// <summary>The TLS listeners, present only when <c>Tls:CertificatePath</c> is set: MQTT over TLS on <c>Mqtt:TlsPort</c>, HTTPS (secure WebSocket) on <c>Http:TlsPort</c>.</summary>
internal static class TlsListeners
{
    public static void Configure(KestrelServerOptions kestrel, IConfiguration configuration, IPAddress mqttAddress, IPAddress httpAddress)
    {
        var tls = configuration.GetSection(TlsOptions.SectionName).Get<TlsOptions>() ?? new TlsOptions();
        if (!tls.IsConfigured)
        {
            return;
        }

        var mqtt = configuration.GetSection(MqttOptions.SectionName).Get<MqttOptions>() ?? new MqttOptions();
        var http = configuration.GetSection(HttpOptions.SectionName).Get<HttpOptions>() ?? new HttpOptions();
        var limits = configuration.GetSection(LimitsOptions.SectionName).Get<LimitsOptions>() ?? new LimitsOptions();
        var handshakeTimeout = limits.HandshakeTimeout ?? TimeSpan.FromSeconds(mqtt.ConnectTimeoutSeconds);
        var certificates = kestrel.ApplicationServices.GetRequiredService<TlsCertificateStore>();
        var logger = kestrel.ApplicationServices.GetRequiredService<ILogger<TlsCertificates>>();

        if (mqtt.TlsPort > 0)
        {
            var adapter = WithRejectionLog(certificates.CreateAdapterOptions(handshakeTimeout, alpn: false), logger);
            kestrel.Listen(mqttAddress, mqtt.TlsPort, listen => listen
                .UseConnectionGovernance(ListenerNames.MqttTls)
                .UseLingeringClose()
                .UseHttps(adapter)
                .UseConnectionHandler<MqttConnectionHandler>());
        }

        if (http.TlsPort > 0)
        {
            var adapter = WithRejectionLog(certificates.CreateAdapterOptions(handshakeTimeout, alpn: true), logger);
            kestrel.Listen(httpAddress, http.TlsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseSocketTuning().UseHttps(adapter);
            });
        }
    }

    private static HttpsConnectionAdapterOptions WithRejectionLog(HttpsConnectionAdapterOptions adapter, ILogger logger)
    {
        if (adapter.ClientCertificateValidation is { } validate)
        {
            adapter.ClientCertificateValidation = (certificate, chain, errors) =>
            {
                var valid = validate(certificate, chain, errors);
                if (!valid)
                {
                    GovernanceLog.ClientCertificateRejected(logger, certificate.Subject, errors.ToString());
                }

                return valid;
            };
        }

        return adapter;
    }
}
