using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>The keys derived from <c>Traffic:Secret</c> (HKDF-SHA256, one label each): the zone cookie's and the one gateways sign forwards with.</summary>
internal sealed class TrafficKeys
{
    public TrafficKeys(IOptions<TrafficOptions> options)
    {
        var secret = Encoding.UTF8.GetBytes(options.Value.Secret ?? string.Empty);
        if (secret.Length == 0)
        {
            // No table, no routing: keys nobody can match, so nothing signed is ever accepted.
            secret = RandomNumberGenerator.GetBytes(32);
        }

        Cookie = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "accesslayer traffic zone cookie"u8.ToArray());
        Forward = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "accesslayer traffic forward"u8.ToArray());
    }

    public byte[] Cookie { get; }

    public byte[] Forward { get; }
}
