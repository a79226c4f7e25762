using AgentDesk.Contracts.Access;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Access;

public sealed class ApiKeyDirectoryState
{
    /// <summary>Issued keys by the SHA-256 of the key.</summary>
    public Dictionary<string, ApiKeyView> ByHash { get; set; } = [];
}

/// <summary>Every issued key, hashed. Lookups are served from memory and interleave (they are read-only).</summary>
[GrainType("api-key-directory")]
public sealed class ApiKeyDirectoryGrain(
    [PersistentState(StorageNames.ApiKeys, StorageNames.Provider)] IPersistentState<ApiKeyDirectoryState> state) : Grain, IApiKeyDirectoryGrain
{
    private Dictionary<string, string>? _hashById;

    private Dictionary<string, ApiKeyView> ByHash => state.State.ByHash;
    private Dictionary<string, string> HashById => _hashById ??= ByHash.ToDictionary(k => k.Value.KeyId, k => k.Key);

    public async Task<Result<ApiKeyView>> IssueAsync(ApiKeyIssue issue)
    {
        if (ByHash.TryGetValue(issue.KeyHash, out var existing))
            return existing.KeyId == issue.KeyId ? Result<ApiKeyView>.Ok(existing) : Result<ApiKeyView>.Fail(Errors.IdempotencyConflict, "That key is already issued.");
        var view = new ApiKeyView(issue.KeyId, issue.Organization, issue.Role, issue.CreatedAt, issue.ExpiresAt, null);
        ByHash[issue.KeyHash] = view;
        HashById[issue.KeyId] = issue.KeyHash;
        await state.WriteStateAsync();
        return Result<ApiKeyView>.Ok(view);
    }

    public Task<ApiKeyView?> AuthenticateAsync(string keyHash, DateTimeOffset now) =>
        Task.FromResult(ByHash.TryGetValue(keyHash, out var key) && key.RevokedAt is null && (key.ExpiresAt is not { } expires || expires > now) ? key : null);

    public Task<IReadOnlyList<ApiKeyView>> ListAsync() =>
        Task.FromResult<IReadOnlyList<ApiKeyView>>(ByHash.Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal).ToArray());

    public async Task<Result<ApiKeyView>> RevokeAsync(string keyId, DateTimeOffset now)
    {
        if (!HashById.TryGetValue(keyId, out var hash)) return Result<ApiKeyView>.Fail(Errors.KeyNotFound, $"API key {keyId} does not exist.");
        var key = ByHash[hash];
        if (key.RevokedAt is not null) return Result<ApiKeyView>.Ok(key);
        ByHash[hash] = key with { RevokedAt = now };
        await state.WriteStateAsync();
        return Result<ApiKeyView>.Ok(ByHash[hash]);
    }
}
