using System.Reflection;

namespace AgentDesk.Domain.Common;

/// <summary>What kind of refusal a code is; the gateway maps each kind to one HTTP status.</summary>
public enum ErrorKind
{
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Unavailable,
    Internal,
}

/// <summary>A machine-readable error code with its kind and a short human title.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ErrorCodeJsonConverter))]
public sealed record ErrorCode(string Code, ErrorKind Kind, string Title)
{
    public override string ToString() => Code;
}

/// <summary>
/// The catalogue of every error code AgentDesk answers with (docs/api.md lists them). Each code is defined
/// once, here; rejections and problems refer to these fields, so a misspelt code does not compile, and a
/// code read back from the wire that is not in the catalogue is a bug, not a silent 400.
/// </summary>
public static class Errors
{
    // Requests that cannot be read.
    public static readonly ErrorCode MalformedJson = Invalid("malformed_json", "Malformed JSON");
    public static readonly ErrorCode InvalidType = Invalid("invalid_type", "A field has the wrong type");
    public static readonly ErrorCode UnknownField = Invalid("unknown_field", "Unknown field");
    public static readonly ErrorCode PayloadTooLarge = new("payload_too_large", ErrorKind.PayloadTooLarge, "Request body too large");
    public static readonly ErrorCode UnsupportedMediaType = new("unsupported_media_type", ErrorKind.UnsupportedMediaType, "Send application/json");
    public static readonly ErrorCode MethodNotAllowed = new("method_not_allowed", ErrorKind.MethodNotAllowed, "Method not allowed");
    public static readonly ErrorCode RouteNotFound = new("route_not_found", ErrorKind.NotFound, "No such endpoint");

    // Access.
    public static readonly ErrorCode Unauthenticated = new("unauthenticated", ErrorKind.Unauthenticated, "Credentials required");
    public static readonly ErrorCode InvalidCredentials = new("invalid_credentials", ErrorKind.Unauthenticated, "Credentials not accepted");
    public static readonly ErrorCode Forbidden = new("forbidden", ErrorKind.Forbidden, "Not allowed for this role");
    public static readonly ErrorCode RateLimited = new("rate_limited", ErrorKind.RateLimited, "Too many requests");
    public static readonly ErrorCode InvalidRole = Invalid("invalid_role", "Unknown role");
    public static readonly ErrorCode InvalidOrganization = Invalid("invalid_organization", "Invalid organisation");
    public static readonly ErrorCode InvalidExpiry = Invalid("invalid_expiry", "Invalid expiry");
    public static readonly ErrorCode KeyNotFound = NotFound("key_not_found", "API key not found");

    // Identifiers and plain values.
    public static readonly ErrorCode InvalidAgentId = Invalid("invalid_agent_id", "Invalid agent id");
    public static readonly ErrorCode InvalidBatchId = Invalid("invalid_batch_id", "Invalid batch id");
    public static readonly ErrorCode InvalidVaultId = Invalid("invalid_vault_id", "Invalid vault id");
    public static readonly ErrorCode InvalidId = Invalid("invalid_id", "Invalid identifier");
    public static readonly ErrorCode InvalidAddress = Invalid("invalid_address", "Invalid address");
    public static readonly ErrorCode InvalidPublicKey = Invalid("invalid_public_key", "Invalid public key");
    public static readonly ErrorCode InvalidSymbol = Invalid("invalid_symbol", "Invalid symbol");
    public static readonly ErrorCode InvalidAmount = Invalid("invalid_amount", "Invalid amount");
    public static readonly ErrorCode AmountTooLarge = Invalid("amount_too_large", "Amount above the platform limit");
    public static readonly ErrorCode InvalidDecimals = Invalid("invalid_decimals", "Invalid decimals");
    public static readonly ErrorCode InvalidName = Invalid("invalid_name", "Invalid name");
    public static readonly ErrorCode InvalidDescription = Invalid("invalid_description", "Invalid description");
    public static readonly ErrorCode InvalidImageUrl = Invalid("invalid_image_url", "Invalid image URL");
    public static readonly ErrorCode InvalidQuery = Invalid("invalid_query", "Invalid query parameter");
    public static readonly ErrorCode InvalidCursor = Invalid("invalid_cursor", "Invalid cursor");

    // Agents and fees.
    public static readonly ErrorCode InvalidAgentType = Invalid("invalid_agent_type", "Invalid agent type");
    public static readonly ErrorCode InvalidFee = Invalid("invalid_fee", "Invalid fee");
    public static readonly ErrorCode FeeTooHigh = Invalid("fee_too_high", "Fee above the platform cap");
    public static readonly ErrorCode AgentNotFound = NotFound("agent_not_found", "Agent not found");
    public static readonly ErrorCode AgentAlreadyRegistered = Conflict("agent_already_registered", "Agent already registered");
    public static readonly ErrorCode AgentPaused = Conflict("agent_paused", "Agent paused");
    public static readonly ErrorCode UnknownTrack = Invalid("unknown_track", "Unknown track");
    public static readonly ErrorCode NoSigner = Invalid("no_signer", "Agent has no signer");

    // Accounts and subscriptions.
    public static readonly ErrorCode AccountNotFound = NotFound("account_not_found", "Account not found");
    public static readonly ErrorCode NotSubscribed = NotFound("not_subscribed", "Not subscribed");
    public static readonly ErrorCode FeeLedgerNotFound = NotFound("fee_ledger_not_found", "No fees credited");
    public static readonly ErrorCode IdempotencyConflict = Conflict("idempotency_conflict", "Idempotency key reused with another request");

    // Batches and sizing.
    public static readonly ErrorCode BatchNotFound = NotFound("batch_not_found", "Batch not found");
    public static readonly ErrorCode BatchRunning = Conflict("batch_running", "Batch still running");
    public static readonly ErrorCode BatchCompleted = Conflict("batch_completed", "Batch already completed");
    public static readonly ErrorCode InvalidWeight = Invalid("invalid_weight", "Invalid weight");
    public static readonly ErrorCode InvalidAction = Invalid("invalid_action", "Invalid action");
    public static readonly ErrorCode LeverageTooLow = Invalid("leverage_too_low", "Leverage too low");
    public static readonly ErrorCode LeverageTooHigh = Invalid("leverage_too_high", "Leverage too high");
    public static readonly ErrorCode ShortNotAllowed = Invalid("short_not_allowed", "SHORT not available");
    public static readonly ErrorCode BelowMinTradeSize = Invalid("below_min_trade_size", "Below the minimum trade size");
    public static readonly ErrorCode SizeTooSmall = Invalid("size_too_small", "Size too small");
    public static readonly ErrorCode ArithmeticOverflow = Invalid("arithmetic_overflow", "Amount out of range");
    public static readonly ErrorCode StepFailed = new("step_failed", ErrorKind.Unavailable, "Subscriber step failed");

    // Prices.
    public static readonly ErrorCode NoPrice = Invalid("no_price", "No price");
    public static readonly ErrorCode InvalidPrice = Invalid("invalid_price", "Invalid price");
    public static readonly ErrorCode InvalidPrices = Invalid("invalid_prices", "Invalid price list");
    public static readonly ErrorCode StalePrice = Conflict("stale_price", "Price too old to trade on");
    public static readonly ErrorCode NoHeldPrice = NotFound("no_held_price", "No held price");
    public static readonly ErrorCode PriceHeld = Conflict("price_held", "A price is held for confirmation");

    // Exits and orders.
    public static readonly ErrorCode InvalidTriggerPrice = Invalid("invalid_trigger_price", "Invalid trigger price");
    public static readonly ErrorCode InvalidExitPrice = Invalid("invalid_exit_price", "Invalid exit price");
    public static readonly ErrorCode InvalidStopLossPrice = Invalid("invalid_stop_loss_price", "Stop-loss price on the wrong side");
    public static readonly ErrorCode InvalidTakeProfitPrice = Invalid("invalid_take_profit_price", "Take-profit price on the wrong side");
    public static readonly ErrorCode InvalidTrailingStop = Invalid("invalid_trailing_stop", "Invalid trailing stop");
    public static readonly ErrorCode ExitsRequired = Invalid("exits_required", "Exit ladder required");
    public static readonly ErrorCode ExitLadderTooLong = Invalid("exit_ladder_too_long", "Exit ladder too long");
    public static readonly ErrorCode InvalidExits = Invalid("invalid_exits", "Invalid exits");
    public static readonly ErrorCode InvalidExitRule = Invalid("invalid_exit_rule", "Invalid exit rule");
    public static readonly ErrorCode InvalidExitBps = Invalid("invalid_exit_bps", "Invalid exitBps");
    public static readonly ErrorCode InvalidStopLoss = Invalid("invalid_stop_loss", "Invalid stop-loss rule");
    public static readonly ErrorCode InvalidTakeProfit = Invalid("invalid_take_profit", "Invalid take-profit rule");
    public static readonly ErrorCode LastRuleMustExitAll = Invalid("last_rule_must_exit_all", "Last rule must exit everything");
    public static readonly ErrorCode StopLossOutOfBounds = Invalid("stop_loss_out_of_bounds", "Stop-loss outside the track's bounds");
    public static readonly ErrorCode TakeProfitOutOfBounds = Invalid("take_profit_out_of_bounds", "Take-profit outside the track's bounds");
    public static readonly ErrorCode StopLossRequired = Invalid("stop_loss_required", "Stop-loss required");
    public static readonly ErrorCode TakeProfitRequired = Invalid("take_profit_required", "Take-profit required");

    // Positions.
    public static readonly ErrorCode PositionNotFound = NotFound("position_not_found", "Position not found");
    public static readonly ErrorCode PositionAlreadyOpen = Conflict("position_already_open", "Position already open");
    public static readonly ErrorCode InsufficientPositionSize = Invalid("insufficient_position_size", "Position smaller than the amount");

    // Signed intents.
    public static readonly ErrorCode InvalidSignature = Invalid("invalid_signature", "Invalid signature");
    public static readonly ErrorCode InvalidNonce = Invalid("invalid_nonce", "Invalid nonce");
    public static readonly ErrorCode NonceMismatch = Conflict("nonce_mismatch", "Nonce mismatch");
    public static readonly ErrorCode InvalidDeadline = Invalid("invalid_deadline", "Invalid deadline");
    public static readonly ErrorCode DeadlineExpired = Invalid("deadline_expired", "Deadline expired");
    public static readonly ErrorCode InvalidSlippage = Invalid("invalid_slippage", "Invalid slippage bound");
    public static readonly ErrorCode SymbolNotAllowed = Invalid("symbol_not_allowed", "Symbol not in the vault's allowlist");
    public static readonly ErrorCode NoVault = Invalid("no_vault", "Agent has no vault");
    public static readonly ErrorCode NoAllocation = Invalid("no_allocation", "Agent has no allocation");
    public static readonly ErrorCode TrackTradeSizeExceeded = Invalid("track_trade_size_exceeded", "Above the track's trade size");
    public static readonly ErrorCode TrackDailyTurnoverExceeded = Invalid("track_daily_turnover_exceeded", "Above the track's daily turnover");
    public static readonly ErrorCode TrackDailyLossReached = Invalid("track_daily_loss_reached", "Track's daily loss limit reached");
    public static readonly ErrorCode AllocationExceeded = Invalid("allocation_exceeded", "Above the agent's allocation");

    // Venues.
    public static readonly ErrorCode MinOutNotMet = Invalid("min_out_not_met", "Minimum out not met");
    public static readonly ErrorCode SlippageExceeded = Invalid("slippage_exceeded", "Slippage bound exceeded");
    public static readonly ErrorCode InsufficientFunds = Invalid("insufficient_funds", "Insufficient funds on-chain");
    public static readonly ErrorCode ConsentMissing = Invalid("consent_missing", "Account has not consented on-chain");
    public static readonly ErrorCode VenueUnavailable = new("venue_unavailable", ErrorKind.Unavailable, "Venue unavailable");
    public static readonly ErrorCode NotAContract = Invalid("not_a_contract", "No contract at this address");
    public static readonly ErrorCode ExitNotReached = Conflict("exit_not_reached", "Exit not reached on-chain");

    // Vaults and risk settings.
    public static readonly ErrorCode VaultNotFound = NotFound("vault_not_found", "Vault not found");
    public static readonly ErrorCode VaultExists = Conflict("vault_exists", "Vault already exists");
    public static readonly ErrorCode VaultAddressTaken = Conflict("vault_address_taken", "Another vault has this address");
    public static readonly ErrorCode AccountIsVault = Conflict("account_is_vault", "The account is the agent's vault");
    public static readonly ErrorCode NotVaultAdmin = new("not_vault_admin", ErrorKind.Forbidden, "The signer is not an admin of the vault contract");
    public static readonly ErrorCode TokenAlreadyListed = Conflict("token_already_listed", "Token already listed under another symbol");
    public static readonly ErrorCode TokenInUse = Conflict("token_in_use", "Token held by an open position");
    public static readonly ErrorCode AllocationExceedsCapital = Conflict("allocation_exceeds_capital", "Allocations above the vault's capital");

    // Events, webhooks and history.
    public static readonly ErrorCode WebhookNotFound = NotFound("webhook_not_found", "Webhook not found");
    public static readonly ErrorCode InvalidWebhook = Invalid("invalid_webhook", "Invalid webhook");
    public static readonly ErrorCode InvalidEventTypes = Invalid("invalid_event_types", "Unknown event types");
    public static readonly ErrorCode SwapNotFound = NotFound("swap_not_found", "Historical swap not found");

    // The cluster.
    public static readonly ErrorCode Unavailable = new("unavailable", ErrorKind.Unavailable, "Temporarily unavailable");
    public static readonly ErrorCode Internal = new("internal_error", ErrorKind.Internal, "Internal error");

    private static readonly Dictionary<string, ErrorCode> ByCode = typeof(Errors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(ErrorCode))
        .Select(f => (ErrorCode)f.GetValue(null)!)
        .ToDictionary(e => e.Code, StringComparer.Ordinal);

    public static IReadOnlyCollection<ErrorCode> All => ByCode.Values;

    /// <summary>The catalogue entry for a code read back from the wire; an unknown code is a bug.</summary>
    public static ErrorCode Find(string code) =>
        ByCode.TryGetValue(code, out var error) ? error : throw new KeyNotFoundException($"'{code}' is not in the error catalogue.");

    private static ErrorCode Invalid(string code, string title) => new(code, ErrorKind.Invalid, title);
    private static ErrorCode NotFound(string code, string title) => new(code, ErrorKind.NotFound, title);
    private static ErrorCode Conflict(string code, string title) => new(code, ErrorKind.Conflict, title);
}
