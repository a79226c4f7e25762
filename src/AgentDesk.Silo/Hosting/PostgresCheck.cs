using Npgsql;

namespace AgentDesk.Silo.Hosting;

/// <summary>
/// One connection attempt before a silo (or <c>migrate</c>) starts on PostgreSQL. Without it, an unreachable server
/// surfaces as Orleans' start-up lifecycle failing with an <see cref="NpgsqlException"/> stack trace and an abort; with
/// it, the start stops with one line that names the server, says what went wrong and how to get a local one.
/// </summary>
public static class PostgresCheck
{
    public const string Hint =
        "For a local one, run deploy/local/postgres.sh start and set AgentDesk__Cluster__ConnectionString to the connection string it prints.";

    /// <summary>Null when a connection opens within <paramref name="timeout"/>; otherwise one line saying why not.</summary>
    public static async Task<string?> ProblemAsync(string? connectionString, TimeSpan timeout)
    {
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            return $"The PostgreSQL connection string is not valid: {e.Message.TrimEnd('.')}. {Hint}";
        }
        var server = $"{settings.Host ?? "localhost"}:{settings.Port}";
        // A probe of its own: no pool left behind, and a bounded wait however the string sets its own timeout.
        settings.Pooling = false;
        settings.Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        try
        {
            await using var connection = new NpgsqlConnection(settings.ConnectionString);
            await connection.OpenAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return $"PostgreSQL at {server} refused the connection: {e.SqlState} {e.MessageText}. {Hint}";
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return $"Cannot connect to PostgreSQL at {server}: {Innermost(e).Message.TrimEnd('.')}. {Hint}";
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
