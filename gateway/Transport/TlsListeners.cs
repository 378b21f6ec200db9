using System.Net;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Gateway.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace AccessLayer.Gateway.Transport;

/// <summary>
/// The Kestrel (SslStream) TLS listeners, present only when <c>Tls:CertificatePath</c> is set: HTTPS (secure WebSocket)
/// on <c>Http:TlsPort</c> always; MQTT over TLS on <c>Mqtt:TlsPort</c> and MLP over TLS on <c>Mlp:TlsPort</c> only when
/// the epoll engine does not serve them (<see cref="Hosting.EpollTlsListeners"/>, OpenSSL).
/// </summary>
internal static class TlsListeners
{
    public static void Configure(KestrelServerOptions kestrel, IConfiguration configuration, IPAddress mqttAddress, IPAddress httpAddress, bool epollTls)
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

        if (mqtt.TlsPort > 0 && !epollTls)
        {
            var adapter = WithRejectionLog(certificates.CreateAdapterOptions(handshakeTimeout, alpn: false), logger);
            kestrel.Listen(mqttAddress, mqtt.TlsPort, listen => listen
                .UseConnectionGovernance(ListenerNames.MqttTls)
                .UseLingeringClose()
                .UseHttps(adapter)
                .UseConnectionHandler<MqttConnectionHandler>());
        }

        var mlp = configuration.GetSection(Mlp.MlpOptions.SectionName).Get<Mlp.MlpOptions>() ?? new Mlp.MlpOptions();
        if (mlp.TlsPort > 0 && !epollTls)
        {
            var adapter = WithRejectionLog(certificates.CreateAdapterOptions(handshakeTimeout, alpn: false), logger);
            kestrel.Listen(GatewayApp.ParseAddress(mlp.BindAddress), mlp.TlsPort, listen => listen
                .UseConnectionGovernance(ListenerNames.MlpTls, Mlp.Connections.MlpAdmissionRefusal.Writer(listen.ApplicationServices))
                .UseMlpLossRecovery()
                .UseLingeringClose()
                .UseHttps(adapter)
                .UseConnectionHandler<Mlp.Connections.MlpConnectionHandler>());
        }

        if (http.TlsPort > 0)
        {
            var adapter = WithRejectionLog(certificates.CreateAdapterOptions(handshakeTimeout, alpn: true), logger);
            kestrel.Listen(httpAddress, http.TlsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseSocketTuning().UseMlpLossRecovery().UseHttps(adapter);
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
