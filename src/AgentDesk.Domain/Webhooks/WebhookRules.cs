using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Webhooks;

/// <summary>What a webhook registration must satisfy (docs/events.md, "Webhooks").</summary>
public static class WebhookRules
{
    public const int MaxUrlLength = 2048;
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 256;

    /// <summary>An absolute http(s) URL without credentials in it; null when acceptable.</summary>
    public static Rejection? CheckUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return new Rejection(Errors.InvalidWebhook, "url is required: the http or https address to POST events to.");
        if (url.Length > MaxUrlLength) return new Rejection(Errors.InvalidWebhook, $"url is at most {MaxUrlLength} characters.");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
            return new Rejection(Errors.InvalidWebhook, "url must be an absolute http:// or https:// address.");
        if (uri.UserInfo.Length > 0)
            return new Rejection(Errors.InvalidWebhook, "url must not carry credentials; requests are authenticated by the AgentDesk-Signature header.");
        return null;
    }

    /// <summary>The shared secret signatures are made with: 16 to 256 printable ASCII characters.</summary>
    public static Rejection? CheckSecret(string? secret)
    {
        if (secret is null || secret.Length < MinSecretLength || secret.Length > MaxSecretLength || !secret.All(c => c is >= ' ' and <= '~'))
            return new Rejection(Errors.InvalidWebhook, $"secret is required: {MinSecretLength} to {MaxSecretLength} printable ASCII characters.");
        return null;
    }
}

/// <summary>
/// The <c>AgentDesk-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "&lt;t&gt;.&lt;body&gt;" with the secret&gt;</c>.
/// Signing the timestamp with the body lets a receiver refuse old deliveries replayed to it.
/// </summary>
public static class WebhookSignatures
{
    public const string Header = "AgentDesk-Signature";

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    public static string Sign(string secret, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    /// <summary>
    /// What a receiver does: the header parses, its v1 matches (in constant time), and its t is within
    /// <paramref name="tolerance"/> of <paramref name="now"/>.
    /// </summary>
    public static bool Verify(string secret, string? header, string body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (header is null) return false;
        long? t = null;
        string? v1 = null;
        foreach (var part in header.Split(','))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2) return false;
            if (pair[0] == "t" && long.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) t = seconds;
            else if (pair[0] == "v1") v1 = pair[1];
        }
        // A timestamp past the calendar's end (year 9999) is no delivery's: refused, not thrown on.
        if (t is not { } timestamp || v1 is null || timestamp > MaxUnixSeconds) return false;
        if ((now - DateTimeOffset.FromUnixTimeSeconds(timestamp)).Duration() > tolerance) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body).Split(",v1=")[1]);
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(v1));
    }
}

/// <summary>
/// When a failed delivery is tried again: after <c>initial × 2^(attempt-1)</c>, never more than <c>max</c> apart, until
/// <c>giveUpAfter</c> has passed since the first attempt; then the delivery is recorded as failed and the webhook moves on.
/// </summary>
public sealed record DeliverySchedule(TimeSpan Initial, TimeSpan Max, TimeSpan GiveUpAfter)
{
    public static readonly DeliverySchedule Default = new(TimeSpan.FromSeconds(5), TimeSpan.FromHours(1), TimeSpan.FromHours(24));

    /// <summary>The wait after the <paramref name="failedAttempts"/>-th failed attempt (1 for the first failure).</summary>
    public TimeSpan Backoff(int failedAttempts)
    {
        if (failedAttempts < 1) return TimeSpan.Zero;
        // Doubling past 2^30 overflows long before it matters: the cap is reached far earlier.
        var exponent = Math.Min(failedAttempts - 1, 30);
        var ticks = Initial.Ticks * (double)(1L << exponent);
        return ticks >= Max.Ticks ? Max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>True when a delivery first tried at <paramref name="firstAttempt"/> is given up at <paramref name="now"/>.</summary>
    public bool GivesUp(DateTimeOffset firstAttempt, DateTimeOffset now) => now - firstAttempt >= GiveUpAfter;
}
