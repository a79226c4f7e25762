using System.Numerics;
using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Intents;

/// <summary>Replay protection for signed intents: sequential nonces per agent and future deadlines.</summary>
public static class IntentRules
{
    /// <summary>An intent must carry exactly the agent's current nonce (sequential from 0).</summary>
    public static Rejection? CheckNonce(BigInteger expected, BigInteger provided) =>
        expected == provided
            ? null
            : new Rejection(Errors.NonceMismatch, $"Nonce {provided} is not the agent's current nonce {expected}; quote again and re-sign.")
                .With("expectedNonce", expected);

    /// <summary>Deadlines are unix seconds and must be strictly in the future.</summary>
    public static Rejection? CheckDeadline(BigInteger deadlineUnixSeconds, DateTimeOffset now) =>
        deadlineUnixSeconds > now.ToUnixTimeSeconds()
            ? null
            : new Rejection(Errors.DeadlineExpired, $"The intent's deadline {deadlineUnixSeconds} has passed (now {now.ToUnixTimeSeconds()}).")
                .With("now", now.ToUnixTimeSeconds());
}
