using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Testing;

namespace AgentDesk.Fault.Tests;

/// <summary>
/// Continuous load through the gateway, as clients would send it: batch-open and batch-close rounds with
/// Idempotency-Keys, signed vault intents, and price ticks. Every answer is recorded; a client retries what it may
/// retry (429, 503 with Retry-After, 202 then the status URL) with the same key or the same signed body.
/// Afterwards <see cref="VerifyAsync"/> checks what a user would: nothing duplicated or lost, money conserved per
/// account, stops fired, and no answer outside what a client is told to expect.
/// </summary>
public sealed class Workload(HttpClient http, string scenario) : IDisposable
{
    private const int Subscribers = 20;
    private static readonly TimeSpan OperationDeadline = TimeSpan.FromSeconds(240);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly List<(int Round, int Opened, int Closed, int CloseSkipped, int CloseFailed, string OpenBatch, string CloseBatch)> _rounds = [];
    private readonly List<string> _batchAccounts = [], _exitAccounts = [];
    private int _calls, _retried, _acceptedIntents;
    private string _batchAgent = "", _exitAgent = "", _vaultAgent = "", _signerKey = "";
    private string _batchSymbol = "", _exitSymbol = "", _vaultSymbol = "";
    private bool _vaultPositionOpen;
    private volatile bool _stopCrossed, _crossing;
    private readonly SemaphoreSlim _tickInFlight = new(1, 1);

    public void Dispose() => _tickInFlight.Dispose();

    public string Summary => $"{_calls} calls ({_retried} retried), {_rounds.Count} batch rounds, {_acceptedIntents} intents accepted";

    /// <summary>Two agents with 20 funded subscribers each (one of them holding positions with a stop at 90) and a vault agent with a signer.</summary>
    public async Task PrepareAsync()
    {
        var tag = scenario.ToUpperInvariant()[..Math.Min(4, scenario.Length)] + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
        (_batchSymbol, _exitSymbol, _vaultSymbol) = ("B" + tag, "E" + tag, "V" + tag);
        await RetryAsync("prices", () => SendAsync(HttpMethod.Post, "/api/v1/prices", Prices((_batchSymbol, 100m), (_exitSymbol, 100m), (_vaultSymbol, 100m))));

        _batchAgent = await AgentAsync("PERPETUAL");
        _exitAgent = await AgentAsync("PERPETUAL");
        for (var i = 0; i < Subscribers; i++)
        {
            _batchAccounts.Add(await AccountAsync(_batchAgent));
            _exitAccounts.Add(await AccountAsync(_exitAgent));
        }
        var exits = await BatchAsync("/agent/batch-open", new { agentId = _exitAgent, symbol = _exitSymbol, action = "LONG", weight = 100, leverage = 2,
            orderOptions = new { stopLossPrice = 90 } }, $"{scenario}-exits");
        Assert.Equal(Subscribers, exits["successful"]!.GetValue<int>());

        (_signerKey, var signer) = TestData.NewKey();
        _vaultAgent = await AgentAsync("SWAP", signer);
        var vaultId = "fv-" + Guid.NewGuid().ToString("N")[..8];
        await RetryAsync("vault", () => SendAsync(HttpMethod.Post, "/api/v1/vaults", new { vaultId, address = TestData.NewAddress(), name = "Fault", capitalUsdc = "10000000" }));
        await RetryAsync("token", () => SendAsync(HttpMethod.Put, $"/api/v1/vaults/{vaultId}/tokens/{_vaultSymbol}", new { address = TestData.NewAddress(), decimals = 18 }));
        // An allocation whose daily turnover (half of it on the default track) outlasts any scenario: the intents loop opens
        // 20 USDC every other intent for as long as the scenario runs, and with 10,000 it reached the day's 5,000 on a
        // slow run of the partition scenario (250 opens), whose next open was then refused as it should be.
        await RetryAsync("bind", () => SendAsync(HttpMethod.Put, $"/api/v1/agents/{_vaultAgent}/vault", new { vaultId, allocationUsdc = "1000000" }));
    }

    /// <summary>Runs the three client loops until <paramref name="stop"/>; a batch round in progress is finished first.</summary>
    public Task RunAsync(CancellationToken stop) => Task.WhenAll(BatchRoundsAsync(stop), IntentsAsync(stop), TicksAsync(stop));

    /// <summary>A tick below the exit agent's stops, sent while the fault is on; every one of those positions must close.</summary>
    public async Task CrossTheStopsAsync()
    {
        _crossing = true;
        await _tickInFlight.WaitAsync(); // a tick at 100 still in flight must not land after the crossing one
        _tickInFlight.Release();
        await RetryAsync("crossing tick", () => SendAsync(HttpMethod.Post, "/api/v1/prices", Prices((_exitSymbol, 85m))));
        _stopCrossed = true;
    }

    public async Task VerifyAsync()
    {
        Assert.True(_stopCrossed, "the scenario never crossed the stops");
        Assert.True(_violations.IsEmpty, $"Answers a client is not told to expect ({_violations.Count}):\n" + string.Join("\n", _violations.Take(20)));
        Assert.NotEmpty(_rounds);
        foreach (var round in _rounds)
        {
            // Every position a round opened was found open and closed by its batch-close: none lost, none extra.
            if (round.Opened == round.Closed && round.CloseSkipped == 0 && round.CloseFailed == 0) continue;
            var open = await GetAsync($"/api/v1/batches/{round.OpenBatch}");
            var close = await GetAsync($"/api/v1/batches/{round.CloseBatch}");
            Assert.Fail($"round {round.Round}: opened {round.Opened}, closed {round.Closed}, skipped {round.CloseSkipped}, failed {round.CloseFailed}\n"
                + $"open batch now: {open?.ToJsonString()}\nclose batch now: {close?.ToJsonString()}");
        }

        // The stops fired for every exit position, and every account's money adds up with nothing left locked.
        // No tick has been sent for the exit symbol since the one crossing tick: re-sent deliveries alone must fire them.
        await Eventually.WaitForAsync(() => GetAsync($"/api/v1/agent-positions/{_exitAgent}"), p => p?.AsArray().Count == 0, TimeSpan.FromSeconds(120),
            "every stop to fire");
        foreach (var account in _batchAccounts.Concat(_exitAccounts))
        {
            JsonNode? view;
            try
            {
                view = await Eventually.WaitForAsync(() => GetAsync($"/api/v1/accounts/{account}"), v => v?["lockedUsdc"]!.GetValue<decimal>() == 0m,
                    TimeSpan.FromSeconds(120), $"{account}'s settlements");
            }
            catch (TimeoutException e)
            {
                // What the positions themselves say: still open, or closed with a settlement the account never applied.
                var batchPositions = await GetAsync($"/api/v1/agent-positions/{_batchAgent}");
                throw new TimeoutException($"{e.Message}\nbatch agent's open positions: {batchPositions?.ToJsonString()}\n"
                    + await StepsOfAsync(account), e);
            }
            decimal Field(string name) => view![name]!.GetValue<decimal>();
            Assert.Equal(Field("depositedUsdc") + Field("realizedPnlUsdc"), Field("freeUsdc") + Field("lockedUsdc") + Field("feesPaidUsdc"));
            Assert.Empty(view!["openPositionKeys"]!.AsArray());
        }
        foreach (var account in _exitAccounts)
            Assert.True((await GetAsync($"/api/v1/accounts/{account}"))!["realizedPnlUsdc"]!.GetValue<decimal>() < 0m, $"{account}'s stop did not fire");

        // Each accepted intent spent exactly one nonce, and the vault position is where the last one left it.
        var quote = await GetAsync($"/agents/{_vaultAgent}/trade-intents/quote?symbol={_vaultSymbol}");
        Assert.Equal(_acceptedIntents, quote!["nonce"]!.GetValue<long>());
        var positions = (await GetAsync($"/agents/{_vaultAgent}/positions"))!;
        Assert.Equal(_vaultPositionOpen ? 1 : 0, (positions is JsonArray list ? list : positions["positions"]!.AsArray()).Count);
    }

    /// <summary>What every round's batches answered for <paramref name="account"/>, where that was not a plain open and close.</summary>
    private async Task<string> StepsOfAsync(string account)
    {
        var lines = new List<string>();
        foreach (var round in _rounds)
        {
            var opened = await StepAsync(round.OpenBatch, account);
            var closed = await StepAsync(round.CloseBatch, account);
            if (opened?["success"]?.GetValue<bool>() == true && closed?["success"]?.GetValue<bool>() == true) continue;
            lines.Add($"round {round.Round}: open {opened?.ToJsonString() ?? "(not in the batch)"}; close {closed?.ToJsonString() ?? "(not in the batch)"}");
        }
        return $"{account}'s unusual steps: " + (lines.Count == 0 ? "none" : string.Join("\n", lines));
    }

    private async Task<JsonNode?> StepAsync(string batchId, string account) =>
        (await GetAsync($"/api/v1/batches/{batchId}"))?["results"]?.AsArray()
            .FirstOrDefault(r => string.Equals(r?["account"]?.GetValue<string>(), account, StringComparison.OrdinalIgnoreCase));

    private async Task BatchRoundsAsync(CancellationToken stop)
    {
        for (var round = 1; !stop.IsCancellationRequested; round++)
        {
            var open = await BatchAsync("/agent/batch-open", new { agentId = _batchAgent, symbol = _batchSymbol, action = "LONG", weight = 20, leverage = 2 },
                $"{scenario}-open-{round}");
            var batchId = open["batchId"]!.GetValue<string>();
            var close = await BatchAsync("/agent/batch-close", new { agentId = _batchAgent, batchId }, $"{scenario}-close-{round}");
            lock (_rounds)
                _rounds.Add((round, open["successful"]!.GetValue<int>(), close["successful"]!.GetValue<int>(),
                    close["skipped"]?.GetValue<int>() ?? 0, close["failed"]!.GetValue<int>(), batchId, close["batchId"]!.GetValue<string>()));
        }
    }

    private async Task IntentsAsync(CancellationToken stop)
    {
        var stopLoss = new ExitRule[] { new(ExitTriggerType.StopLoss, -500, 10_000) };
        decimal size = 0;
        while (!stop.IsCancellationRequested)
        {
            var quote = await RetryAsync("quote", () => SendAsync(HttpMethod.Get, $"/agents/{_vaultAgent}/{(_vaultPositionOpen ? "reduce" : "trade")}-intents/quote?symbol={_vaultSymbol}"));
            var typed = quote!["typedData"]!;
            var domain = new Eip712Domain(typed["domain"]!["name"]!.GetValue<string>(), typed["domain"]!["version"]!.GetValue<string>(),
                typed["domain"]!["chainId"]!.GetValue<long>(), typed["domain"]!["verifyingContract"]!.GetValue<string>());
            var token = new VaultToken(_vaultSymbol, quote["vault"]!["token"]!["address"]!.GetValue<string>(), quote["vault"]!["token"]!["decimals"]!.GetValue<int>());
            var nonce = quote["nonce"]!.GetValue<long>();
            var deadline = DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds();
            var request = _vaultPositionOpen
                ? new IntentRequest(IntentKind.ReducePosition, _vaultSymbol, 0, 0, size, 0, 100, [], deadline, nonce, "")
                : new IntentRequest(IntentKind.OpenPosition, _vaultSymbol, 20m, 0, 0, 0, 100, stopLoss, deadline, nonce, "");
            var signature = NethereumIntentSignatures.Sign(domain, IntentStructs.Build(request, Guid.Parse(_vaultAgent), quote["vault"]!["address"]!.GetValue<string>(), token).Unwrap(), _signerKey);
            object body = _vaultPositionOpen
                ? new { symbol = _vaultSymbol, tokenAmount = size.ToString(CultureInfo.InvariantCulture), minUsdcOut = "0", maxSlippageBps = 100, deadline, nonce, signature }
                : new { symbol = _vaultSymbol, usdcAmount = "20", minTokenOut = "0", maxSlippageBps = 100, exits = stopLoss.Select(e => new { triggerType = "StopLoss", triggerBps = e.TriggerBps, exitBps = e.ExitBps }), deadline, nonce, signature };
            // The same signed body is the retry: the agent answers it as it answered the first time.
            var done = await RetryAsync("intent", () => SendAsync(HttpMethod.Post, $"/agents/{_vaultAgent}/{(_vaultPositionOpen ? "reduce" : "trade")}-intents", body));
            Interlocked.Increment(ref _acceptedIntents);
            size = _vaultPositionOpen ? 0 : done!["size"]!.GetValue<decimal>();
            _vaultPositionOpen = !_vaultPositionOpen;
            await Task.Delay(300, CancellationToken.None);
        }
    }

    private async Task TicksAsync(CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var price = i % 2 == 0 ? 100m : 100.2m;
            // The exit symbol is held at 100 until the one crossing tick, and then sent nothing more.
            await _tickInFlight.WaitAsync(CancellationToken.None);
            try
            {
                await SendAsync(HttpMethod.Post, "/api/v1/prices", _crossing
                    ? Prices((_batchSymbol, price), (_vaultSymbol, price))
                    : Prices((_batchSymbol, price), (_vaultSymbol, price), (_exitSymbol, 100m)));
            }
            finally
            {
                _tickInFlight.Release();
            }
            await Task.Delay(300, CancellationToken.None);
        }
    }

    private async Task<string> AgentAsync(string agentType, string? signer = null)
    {
        var agentId = Guid.NewGuid().ToString();
        await RetryAsync("register", () => SendAsync(HttpMethod.Post, "/agent/register", new { agentId, name = "Fault " + agentType, agentType, signerAddress = signer }));
        return agentId;
    }

    private async Task<string> AccountAsync(string agentId)
    {
        var account = TestData.NewAddress();
        await RetryAsync("account", () => SendAsync(HttpMethod.Post, "/api/v1/accounts", new { smartAccount = account }));
        await RetryAsync("deposit", () => SendAsync(HttpMethod.Post, $"/api/v1/accounts/{account}/deposits", new { amount = "100", depositId = "first" }));
        await RetryAsync("subscribe", () => SendAsync(HttpMethod.Post, $"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }));
        return account;
    }

    /// <summary>A batch request with its Idempotency-Key, repeated until it answers its result; a 202 is followed to its status URL.</summary>
    private async Task<JsonNode> BatchAsync(string path, object body, string idempotencyKey)
    {
        var answer = await RetryAsync(path, () => SendAsync(HttpMethod.Post, path, body, idempotencyKey), acceptAccepted: true);
        if (answer!["statusUrl"] is not { } statusUrl) return answer;
        return (await Eventually.WaitForAsync(
            () => RetryAsync("batch status", () => SendAsync(HttpMethod.Get, statusUrl.GetValue<string>())),
            b => b!["status"]!.GetValue<string>() == "Completed", OperationDeadline, $"batch {answer["batchId"]} to complete"))!;
    }

    private static object Prices(params (string Symbol, decimal Price)[] prices) =>
        new { prices = prices.Select(p => new { symbol = p.Symbol, priceUsd = p.Price.ToString(CultureInfo.InvariantCulture) }) };

    private async Task<JsonNode?> GetAsync(string path) => await RetryAsync(path, () => SendAsync(HttpMethod.Get, path));

    /// <summary>Repeats a call while it answers "try again" (429, 503, or no answer at all) until it succeeds, within the deadline.</summary>
    private async Task<JsonNode?> RetryAsync(string what, Func<Task<(int Status, JsonNode? Body)>> call, bool acceptAccepted = false)
    {
        var deadline = DateTime.UtcNow + OperationDeadline;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0) Interlocked.Increment(ref _retried);
            var (status, body) = await call();
            if (status == 200 || (acceptAccepted && status == 202)) return body;
            if (status is not (0 or 429 or 503)) throw new InvalidOperationException($"{what} answered {status}: {body?.ToJsonString()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not succeed within {OperationDeadline.TotalSeconds} s (last: {status}).");
            await Task.Delay(500);
        }
    }

    /// <summary>One HTTP call. Answers outside 200, 202, 429 and 503-with-Retry-After are violations; so is no answer.</summary>
    private async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? body = null, string? idempotencyKey = null)
    {
        Interlocked.Increment(ref _calls);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        try
        {
            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            var json = text.Length > 0 && text[0] is '{' or '[' ? JsonNode.Parse(text) : null;
            var allowed = status is 200 or 202 or 429 || (status == 503 && response.Headers.RetryAfter is not null);
            if (!allowed) _violations.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {method} {path} → {status} {text[..Math.Min(300, text.Length)]}");
            return (status, json);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            _violations.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {method} {path} → no answer: {e.GetType().Name} {e.Message}");
            return (0, null);
        }
    }
}
