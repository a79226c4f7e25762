// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {OraclePool} from "./OraclePool.sol";
import {TokenRegistry} from "./TokenRegistry.sol";
import {Vault} from "./Vault.sol";

/// @title TradeRouter
/// @notice The chain's half of AgentDesk's execution: the second line of defence behind the off-chain gateway.
///         It re-verifies every signed intent (EIP-712 signature of the agent's registered signer, exact
///         sequential nonce, deadline, vault allowlist), keeps each vault position and its signed exit ladder,
///         fires exit rules at the oracle price, and fills batches for the subscribers of SWAP agents.
///
/// Two kinds of failure, on purpose:
///  - Admission failures REVERT (forged, replayed, expired, disallowed, not the executor): nothing happens on
///    chain, so an intent that should never have been relayed leaves no trace and consumes nothing.
///  - Market failures after admission (slippage bound, minimum out, stale price, funds) do NOT revert: the
///    order is recorded as failed with an OrderFailed event and, for a signed intent, its nonce stays consumed.
///    The agent signed that exact order once; it must not be replayable later at a different market.
///
/// Every order runs in its own call frame (`settle`, called on `this` inside try/catch) so that a failed
/// order's transfers are rolled back without touching the rest of the transaction (the other orders of a batch).
contract TradeRouter is EIP712, AccessControl, Multicall, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------------------------------------------
    // EIP-712 types. The strings must match the off-chain code byte for byte (docs/intents.md).
    // ------------------------------------------------------------------------------------------------------

    bytes32 public constant OPEN_POSITION_TYPEHASH = keccak256(
        "OpenPosition(uint256 agentId,address vault,address token,uint256 usdcAmount,uint256 minTokenOut,uint16 maxSlippageBps,bytes32 exitsHash,uint256 deadline,uint256 nonce)"
    );
    bytes32 public constant ADD_TO_POSITION_TYPEHASH = keccak256(
        "AddToPosition(uint256 agentId,address vault,address token,uint256 usdcAmount,uint256 minTokenOut,uint16 maxSlippageBps,uint256 deadline,uint256 nonce)"
    );
    bytes32 public constant REDUCE_POSITION_TYPEHASH = keccak256(
        "ReducePosition(uint256 agentId,address vault,address token,uint256 tokenAmount,uint256 minUsdcOut,uint16 maxSlippageBps,uint256 deadline,uint256 nonce)"
    );
    bytes32 public constant UPDATE_EXIT_LADDER_TYPEHASH = keccak256(
        "UpdateExitLadder(uint256 agentId,address vault,address token,bytes32 exitsHash,uint256 deadline,uint256 nonce)"
    );
    bytes32 public constant EXIT_RULE_TYPEHASH = keccak256("ExitRule(uint8 triggerType,int32 triggerBps,uint16 exitBps)");

    bytes32 public constant EXECUTOR_ROLE = keccak256("EXECUTOR_ROLE");

    uint8 public constant STOP_LOSS = 0;
    uint8 public constant TAKE_PROFIT = 1;

    uint8 public constant STATUS_NONE = 0;
    uint8 public constant STATUS_FILLED = 1;
    uint8 public constant STATUS_FAILED = 2;

    /// @notice Gas an order needs to be available before it starts, or the whole transaction reverts with
    ///         InsufficientGas. Why: an order that ran out of gas inside its try/catch would otherwise be recorded
    ///         as failed for good, so a relayer sending too little gas could burn orders and nonces. With this
    ///         much available (an order uses about 100k), an order can only fail for a market reason.
    uint256 public constant MIN_GAS_PER_ORDER = 250_000;

    uint16 private constant BPS = 10_000;

    // ------------------------------------------------------------------------------------------------------
    // Structs. Field order is the ABI (and, for the four intents, the EIP-712 type).
    // ------------------------------------------------------------------------------------------------------

    struct OpenPosition {
        uint256 agentId;
        address vault;
        address token;
        uint256 usdcAmount;
        uint256 minTokenOut;
        uint16 maxSlippageBps;
        bytes32 exitsHash;
        uint256 deadline;
        uint256 nonce;
    }

    struct AddToPosition {
        uint256 agentId;
        address vault;
        address token;
        uint256 usdcAmount;
        uint256 minTokenOut;
        uint16 maxSlippageBps;
        uint256 deadline;
        uint256 nonce;
    }

    struct ReducePosition {
        uint256 agentId;
        address vault;
        address token;
        uint256 tokenAmount;
        uint256 minUsdcOut;
        uint16 maxSlippageBps;
        uint256 deadline;
        uint256 nonce;
    }

    struct UpdateExitLadder {
        uint256 agentId;
        address vault;
        address token;
        bytes32 exitsHash;
        uint256 deadline;
        uint256 nonce;
    }

    /// @dev triggerType: STOP_LOSS (0) or TAKE_PROFIT (1). triggerBps: PnL in bps of cost. exitBps: share of the
    ///      current size to sell, 1..10000 (10000 = all).
    struct ExitRule {
        uint8 triggerType;
        int32 triggerBps;
        uint16 exitBps;
    }

    struct BatchBuy {
        bytes32 orderId;
        address account;
        uint256 usdcAmount;
        uint256 minTokenOut;
        uint16 maxSlippageBps;
    }

    struct BatchSell {
        bytes32 orderId;
        address account;
        uint256 tokenAmount;
        uint256 minUsdcOut;
        uint16 maxSlippageBps;
    }

    /// @notice A vault position of one agent in one token.
    struct Position {
        uint256 size; // token base units held for it by the vault
        uint256 costUsdc; // USDC base units paid for what is left
        bytes32 exitsHash; // the exit ladder the agent signed
        uint256 firedMask; // bit i set = rule i has fired
    }

    /// @notice One order the router executed. Packed in one slot: a batch writes one per subscriber.
    struct Order {
        uint8 status;
        uint120 usdcAmount;
        uint128 tokenAmount;
    }

    /// @notice One swap as `settle` executes it.
    struct Trade {
        bytes32 orderId;
        uint256 agentId;
        address account; // who pays the input and receives the output: a Vault or a subscriber
        address token;
        bool buy; // true: USDC -> token
        bool fromVault; // true: account is a Vault (router-controlled); false: an approving subscriber
        uint256 amountIn;
        uint256 minOut;
        uint16 maxSlippageBps;
    }

    // ------------------------------------------------------------------------------------------------------
    // Events and errors
    // ------------------------------------------------------------------------------------------------------

    event AgentSignerSet(uint256 indexed agentId, address indexed signer);
    event NoncesSkipped(uint256 indexed agentId, uint256 fromNonce, uint256 toNonce);
    event ConsentSet(address indexed account, uint256 indexed agentId, bool allowed);
    event OrderFilled(
        bytes32 indexed orderId,
        uint256 indexed agentId,
        address indexed account,
        address token,
        bool buy,
        uint256 usdcAmount,
        uint256 tokenAmount,
        uint256 priceE8
    );
    event OrderFailed(bytes32 indexed orderId, uint256 indexed agentId, address indexed account, bytes4 reason);
    event OrderSkipped(bytes32 indexed orderId);
    event PositionUpdated(
        uint256 indexed agentId,
        address indexed vault,
        address indexed token,
        uint256 size,
        uint256 costUsdc,
        bytes32 exitsHash
    );
    event ExitLadderUpdated(
        bytes32 indexed orderId, uint256 indexed agentId, address indexed vault, address token, bytes32 exitsHash
    );
    event ExitExecuted(
        bytes32 indexed orderId,
        uint256 indexed agentId,
        address indexed vault,
        address token,
        uint256 ruleIndex,
        int256 pnlBps
    );

    // Admission (revert)
    error InvalidSignature();
    error NonceMismatch(uint256 expected, uint256 provided);
    error DeadlineExpired(uint256 deadline, uint256 nowTs);
    error TokenNotAllowed(address vault, address token);
    error TokenNotListed(address token);
    error PositionAlreadyOpen();
    error NoOpenPosition();
    error InsufficientPositionSize(uint256 size, uint256 requested);
    error ZeroAmount();
    error OrderAlreadyExecuted(bytes32 orderId);
    error ExitsHashMismatch(bytes32 stored, bytes32 provided);
    error RuleIndexOutOfRange(uint256 ruleIndex, uint256 ruleCount);
    error ExitAlreadyFired(uint256 ruleIndex);
    error InvalidExitRule(uint256 ruleIndex);
    error ExitNotReached(int256 pnlBps, int32 triggerBps);
    error InsufficientGas();
    error OnlySelf();
    error ZeroAddress();
    error PoolMismatch();
    // Market (recorded as OrderFailed reasons; the pool adds StalePrice, InvalidPrice, NotListed,
    // InsufficientLiquidity and ZeroOutput)
    error SlippageExceeded(uint16 spreadBps, uint16 maxSlippageBps);
    error MinOutNotMet(uint256 out, uint256 minOut);
    error ConsentMissing();
    error InsufficientBalance();
    error InsufficientAllowance();
    error UnknownFailure();

    // ------------------------------------------------------------------------------------------------------
    // State
    // ------------------------------------------------------------------------------------------------------

    IERC20 public immutable usdc;
    uint8 public immutable usdcDecimals;
    TokenRegistry public immutable registry;
    OraclePool public immutable pool;
    /// @notice The pool's spread, cached: the pool's is immutable and every order compares against it.
    uint16 public immutable spreadBps;

    /// @notice The next nonce each agent must sign (sequential from 0).
    mapping(uint256 agentId => uint256) public nonces;
    /// @notice consents(account, agentId): the account lets the executor trade for it on that SWAP agent's batches.
    mapping(address account => mapping(uint256 agentId => bool)) public consents;
    /// @notice positions(agentId, vault, token) -> (size, costUsdc, exitsHash, firedMask)
    mapping(uint256 agentId => mapping(address vault => mapping(address token => Position))) public positions;

    mapping(uint256 agentId => address) private _signers;
    mapping(bytes32 orderId => Order) private _orders;

    constructor(
        string memory name,
        string memory version,
        address usdc_,
        address registry_,
        address pool_,
        address admin
    ) EIP712(name, version) {
        if (usdc_ == address(0) || registry_ == address(0) || pool_ == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        OraclePool p = OraclePool(pool_);
        // A router wired to a pool that prices another USDC or reads another registry would move the wrong money.
        if (address(p.usdc()) != usdc_ || address(p.registry()) != registry_) revert PoolMismatch();
        usdc = IERC20(usdc_);
        usdcDecimals = IERC20Metadata(usdc_).decimals();
        registry = TokenRegistry(registry_);
        pool = p;
        spreadBps = p.spreadBps();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------------
    // Signers, consent, views
    // ------------------------------------------------------------------------------------------------------

    /// @notice Registers or rotates (or, with address(0), revokes) the key that signs for an agent.
    ///         The platform does this: admin or executor role.
    function setAgentSigner(uint256 agentId, address signer) external {
        if (!hasRole(EXECUTOR_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, EXECUTOR_ROLE);
        }
        _signers[agentId] = signer;
        emit AgentSignerSet(agentId, signer);
    }

    /// @notice Moves an agent's next nonce forward to `nonce` (never back); the nonces in between can no longer
    ///         execute. The platform does this (executor role) when the off-chain gateway spent nonces the chain
    ///         never saw: a signer rotation signed off-chain, or an intent the chain refused at admission. It keeps
    ///         the on-chain nonce equal to the gateway's. It grants nothing: the executor could already decline to
    ///         relay those intents.
    function skipNonces(uint256 agentId, uint256 nonce) external onlyRole(EXECUTOR_ROLE) {
        uint256 current = nonces[agentId];
        if (nonce < current) revert NonceMismatch(current, nonce);
        nonces[agentId] = nonce;
        emit NoncesSkipped(agentId, current, nonce);
    }

    function signerOf(uint256 agentId) external view returns (address) {
        return _signers[agentId];
    }

    /// @notice A subscriber (msg.sender) allows or stops batch opens for it on `agentId`'s batches.
    function setConsent(uint256 agentId, bool allowed) external {
        consents[msg.sender][agentId] = allowed;
        emit ConsentSet(msg.sender, agentId, allowed);
    }

    /// @notice status: 0 none, 1 filled (or, for a ladder update, applied), 2 failed. Amounts are what moved
    ///         (zero for a failure or a ladder update).
    function orders(bytes32 orderId) external view returns (uint8 status, uint256 usdcAmount, uint256 tokenAmount) {
        Order storage o = _orders[orderId];
        return (o.status, o.usdcAmount, o.tokenAmount);
    }

    /// @notice The order id of a signed intent.
    function intentOrderId(uint256 agentId, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(agentId, nonce));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------------------------------------------
    // EIP-712 hashing helpers (so the off-chain side can prove it hashes the same way)
    // ------------------------------------------------------------------------------------------------------

    /// @notice How EIP-712 hashes an ExitRule[] member: keccak256 of the concatenated struct hashes.
    ///         An empty ladder hashes to keccak256("").
    function hashExits(ExitRule[] calldata rules) public pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](rules.length);
        for (uint256 i = 0; i < rules.length; i++) {
            // abi.encode sign-extends int32 to 32 bytes, as EIP-712 encodes negative integers.
            hashes[i] = keccak256(abi.encode(EXIT_RULE_TYPEHASH, rules[i].triggerType, rules[i].triggerBps, rules[i].exitBps));
        }
        // encodePacked of a bytes32[] is the plain concatenation of its elements.
        return keccak256(abi.encodePacked(hashes));
    }

    // Every intent struct has only static members, so abi.encode(struct) is exactly its members' 32-byte
    // encodings in order: EIP-712's encodeData.
    function digestOpenPosition(OpenPosition calldata intent) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(OPEN_POSITION_TYPEHASH, intent)));
    }

    function digestAddToPosition(AddToPosition calldata intent) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ADD_TO_POSITION_TYPEHASH, intent)));
    }

    function digestReducePosition(ReducePosition calldata intent) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REDUCE_POSITION_TYPEHASH, intent)));
    }

    function digestUpdateExitLadder(UpdateExitLadder calldata intent) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(UPDATE_EXIT_LADDER_TYPEHASH, intent)));
    }

    // ------------------------------------------------------------------------------------------------------
    // Signed intents (vault positions)
    // ------------------------------------------------------------------------------------------------------

    /// @notice Opens a vault position: USDC from the vault to the pool, tokens to the vault. Stores the signed
    ///         exitsHash for executeExit. Reverts PositionAlreadyOpen while the position has a size.
    function openPosition(OpenPosition calldata intent, bytes calldata signature)
        external
        onlyRole(EXECUTOR_ROLE)
        nonReentrant
    {
        if (intent.usdcAmount == 0) revert ZeroAmount();
        bytes32 orderId = _admit(
            intent.agentId, intent.vault, intent.token, intent.deadline, intent.nonce, digestOpenPosition(intent), signature
        );
        Position storage p = positions[intent.agentId][intent.vault][intent.token];
        if (p.size != 0) revert PositionAlreadyOpen();

        (bool filled,, uint256 tokenOut) = _tryTrade(
            Trade(orderId, intent.agentId, intent.vault, intent.token, true, true, intent.usdcAmount, intent.minTokenOut, intent.maxSlippageBps)
        );
        if (filled) {
            p.size = tokenOut;
            p.costUsdc = intent.usdcAmount;
            p.exitsHash = intent.exitsHash;
            p.firedMask = 0;
            emit PositionUpdated(intent.agentId, intent.vault, intent.token, tokenOut, intent.usdcAmount, intent.exitsHash);
        }
    }

    /// @notice Adds to an open vault position (size and cost grow; the ladder stays).
    function addToPosition(AddToPosition calldata intent, bytes calldata signature)
        external
        onlyRole(EXECUTOR_ROLE)
        nonReentrant
    {
        if (intent.usdcAmount == 0) revert ZeroAmount();
        bytes32 orderId = _admit(
            intent.agentId, intent.vault, intent.token, intent.deadline, intent.nonce, digestAddToPosition(intent), signature
        );
        Position storage p = positions[intent.agentId][intent.vault][intent.token];
        if (p.size == 0) revert NoOpenPosition();

        (bool filled,, uint256 tokenOut) = _tryTrade(
            Trade(orderId, intent.agentId, intent.vault, intent.token, true, true, intent.usdcAmount, intent.minTokenOut, intent.maxSlippageBps)
        );
        if (filled) {
            p.size += tokenOut;
            p.costUsdc += intent.usdcAmount;
            emit PositionUpdated(intent.agentId, intent.vault, intent.token, p.size, p.costUsdc, p.exitsHash);
        }
    }

    /// @notice Sells `tokenAmount` of a vault position (≤ its size); selling the whole size closes it.
    function reducePosition(ReducePosition calldata intent, bytes calldata signature)
        external
        onlyRole(EXECUTOR_ROLE)
        nonReentrant
    {
        if (intent.tokenAmount == 0) revert ZeroAmount();
        bytes32 orderId = _admit(
            intent.agentId, intent.vault, intent.token, intent.deadline, intent.nonce, digestReducePosition(intent), signature
        );
        Position storage p = positions[intent.agentId][intent.vault][intent.token];
        if (p.size == 0) revert NoOpenPosition();
        if (intent.tokenAmount > p.size) revert InsufficientPositionSize(p.size, intent.tokenAmount);

        (bool filled,,) = _tryTrade(
            Trade(orderId, intent.agentId, intent.vault, intent.token, false, true, intent.tokenAmount, intent.minUsdcOut, intent.maxSlippageBps)
        );
        if (filled) _reduce(intent.agentId, intent.vault, intent.token, intent.tokenAmount);
    }

    /// @notice Replaces an open position's exit ladder and clears which rules have fired.
    function updateExitLadder(UpdateExitLadder calldata intent, bytes calldata signature)
        external
        onlyRole(EXECUTOR_ROLE)
        nonReentrant
    {
        bytes32 orderId = _admit(
            intent.agentId, intent.vault, intent.token, intent.deadline, intent.nonce, digestUpdateExitLadder(intent), signature
        );
        Position storage p = positions[intent.agentId][intent.vault][intent.token];
        if (p.size == 0) revert NoOpenPosition();
        p.exitsHash = intent.exitsHash;
        p.firedMask = 0;
        // Recorded like an order so that every consumed nonce has an outcome in `orders`.
        _orders[orderId] = Order(STATUS_FILLED, 0, 0);
        emit ExitLadderUpdated(orderId, intent.agentId, intent.vault, intent.token, intent.exitsHash);
        emit PositionUpdated(intent.agentId, intent.vault, intent.token, p.size, p.costUsdc, intent.exitsHash);
    }

    /// @notice Fires rule `ruleIndex` of a vault position's signed ladder at the current oracle price.
    ///         The agent authorised these rules when it signed exitsHash; the executor only chooses when, and the
    ///         chain checks that the level is really reached. A market failure reverts (no nonce is involved, the
    ///         rule stays unfired, and the executor can retry).
    function executeExit(
        uint256 agentId,
        address vault,
        address token,
        ExitRule[] calldata rules,
        uint256 ruleIndex,
        bytes32 orderId
    ) external onlyRole(EXECUTOR_ROLE) nonReentrant {
        if (_orders[orderId].status != STATUS_NONE) revert OrderAlreadyExecuted(orderId);
        Position storage p = positions[agentId][vault][token];
        (uint256 amount, int256 pnlBps) = _checkExit(p, token, rules, ruleIndex);
        p.firedMask |= uint256(1) << ruleIndex;

        // No try/catch: a failed exit reverts whole, so the rule is not marked fired. No slippage bound or
        // minimum out either: the agent's signed rule says "sell at this level", whatever the spread.
        Trade memory t;
        t.orderId = orderId;
        t.agentId = agentId;
        t.account = vault;
        t.token = token;
        t.fromVault = true;
        t.amountIn = amount;
        t.maxSlippageBps = type(uint16).max;
        (uint256 usdcOut, uint256 fillE8) = this.settle(t);
        _orders[orderId] = Order(STATUS_FILLED, uint120(usdcOut), uint128(amount));
        emit OrderFilled(orderId, agentId, vault, token, false, usdcOut, amount, fillE8);
        emit ExitExecuted(orderId, agentId, vault, token, ruleIndex, pnlBps);
        _reduce(agentId, vault, token, amount);
    }

    /// @dev executeExit's checks; returns the amount to sell and the PnL at the current oracle price.
    function _checkExit(Position storage p, address token, ExitRule[] calldata rules, uint256 ruleIndex)
        private
        view
        returns (uint256 amount, int256 pnlBps)
    {
        if (p.size == 0) revert NoOpenPosition();
        bytes32 provided = hashExits(rules);
        if (provided != p.exitsHash) revert ExitsHashMismatch(p.exitsHash, provided);
        if (ruleIndex >= rules.length || ruleIndex >= 256) revert RuleIndexOutOfRange(ruleIndex, rules.length);
        if ((p.firedMask >> ruleIndex) & 1 == 1) revert ExitAlreadyFired(ruleIndex);
        ExitRule calldata rule = rules[ruleIndex];
        if (rule.triggerType > TAKE_PROFIT || rule.exitBps == 0 || rule.exitBps > BPS) revert InvalidExitRule(ruleIndex);

        (uint256 priceE8, uint8 tokenDecimals) = pool.oraclePrice(token);
        bool reached;
        (reached, pnlBps) = _ruleReached(p, priceE8, tokenDecimals, rule);
        if (!reached) revert ExitNotReached(pnlBps, rule.triggerBps);

        // Floored, as off-chain; 10000 sells everything so that no dust is left behind.
        amount = rule.exitBps == BPS ? p.size : (p.size * rule.exitBps) / BPS;
        if (amount == 0) revert ZeroAmount();
    }

    // ------------------------------------------------------------------------------------------------------
    // Batches (subscribers of SWAP agents)
    // ------------------------------------------------------------------------------------------------------

    /// @notice Buys `token` for many subscribers. Never reverts for one order: an executed id is skipped, a
    ///         failed order is recorded with its reason and its funds stay where they were.
    function batchOpen(uint256 agentId, address token, BatchBuy[] calldata orders_)
        external
        onlyRole(EXECUTOR_ROLE)
        nonReentrant
    {
        if (!registry.isListed(token)) revert TokenNotListed(token);
        for (uint256 i = 0; i < orders_.length; i++) {
            BatchBuy calldata o = orders_[i];
            if (_orders[o.orderId].status != STATUS_NONE) {
                emit OrderSkipped(o.orderId);
                continue;
            }
            if (!consents[o.account][agentId]) {
                _fail(o.orderId, agentId, o.account, ConsentMissing.selector);
                continue;
            }
            _tryTrade(Trade(o.orderId, agentId, o.account, token, true, false, o.usdcAmount, o.minTokenOut, o.maxSlippageBps));
        }
    }

    /// @notice Sells `token` back to USDC for many subscribers (no consent needed to exit).
    function batchClose(uint256 agentId, address token, BatchSell[] calldata orders_)
        external
        onlyRole(EXECUTOR_ROLE)
        nonReentrant
    {
        if (!registry.isListed(token)) revert TokenNotListed(token);
        for (uint256 i = 0; i < orders_.length; i++) {
            BatchSell calldata o = orders_[i];
            if (_orders[o.orderId].status != STATUS_NONE) {
                emit OrderSkipped(o.orderId);
                continue;
            }
            _tryTrade(Trade(o.orderId, agentId, o.account, token, false, false, o.tokenAmount, o.minUsdcOut, o.maxSlippageBps));
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // One order's money movement, in its own call frame
    // ------------------------------------------------------------------------------------------------------

    /// @notice Moves the input from `t.account` to the pool, has the pool pay the output to `t.account`, and
    ///         checks the minimum out. Callable only by the router itself: it is external so that a revert
    ///         anywhere in it unwinds exactly this order's transfers (see _tryTrade).
    function settle(Trade calldata t) external returns (uint256 amountOut, uint256 priceE8) {
        if (msg.sender != address(this)) revert OnlySelf();
        IERC20 input = t.buy ? usdc : IERC20(t.token);
        // Checked here rather than left to the token so that the recorded reason does not depend on how a
        // given token phrases its own revert.
        if (input.balanceOf(t.account) < t.amountIn) revert InsufficientBalance();
        if (t.fromVault) {
            Vault(t.account).transferOut(address(input), address(pool), t.amountIn);
        } else {
            if (input.allowance(t.account, address(this)) < t.amountIn) revert InsufficientAllowance();
            input.safeTransferFrom(t.account, address(pool), t.amountIn);
        }
        (amountOut, priceE8) = t.buy ? pool.buy(t.token, t.amountIn, t.account) : pool.sell(t.token, t.amountIn, t.account);
        if (amountOut < t.minOut) revert MinOutNotMet(amountOut, t.minOut);
        // Orders are stored packed; an amount that would not fit fails this order instead of being truncated.
        SafeCast.toUint120(t.buy ? t.amountIn : amountOut);
        SafeCast.toUint128(t.buy ? amountOut : t.amountIn);
    }

    /// @dev Runs one admitted order; records and announces its outcome. Returns the amounts that moved.
    function _tryTrade(Trade memory t) private returns (bool filled, uint256 usdcAmount, uint256 tokenAmount) {
        bytes4 reason;
        if (t.amountIn == 0) {
            reason = ZeroAmount.selector;
        } else if (spreadBps > t.maxSlippageBps) {
            reason = SlippageExceeded.selector;
        } else {
            if (gasleft() < MIN_GAS_PER_ORDER) revert InsufficientGas();
            try this.settle(t) returns (uint256 amountOut, uint256 priceE8) {
                (usdcAmount, tokenAmount) = t.buy ? (t.amountIn, amountOut) : (amountOut, t.amountIn);
                _orders[t.orderId] = Order(STATUS_FILLED, uint120(usdcAmount), uint128(tokenAmount));
                emit OrderFilled(t.orderId, t.agentId, t.account, t.token, t.buy, usdcAmount, tokenAmount, priceE8);
                return (true, usdcAmount, tokenAmount);
            } catch (bytes memory data) {
                // The reason is the selector of the custom error that stopped the order.
                reason = data.length >= 4 ? bytes4(data) : UnknownFailure.selector;
            }
        }
        _fail(t.orderId, t.agentId, t.account, reason);
        return (false, 0, 0);
    }

    function _fail(bytes32 orderId, uint256 agentId, address account, bytes4 reason) private {
        _orders[orderId] = Order(STATUS_FAILED, 0, 0);
        emit OrderFailed(orderId, agentId, account, reason);
    }

    // ------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------

    /// @dev Admission of a signed intent, in the off-chain order: allowlist, signature, deadline, nonce. Consumes
    ///      the nonce (effects before any interaction) and returns the intent's order id.
    function _admit(
        uint256 agentId,
        address vault,
        address token,
        uint256 deadline,
        uint256 nonce,
        bytes32 digest,
        bytes calldata signature
    ) private returns (bytes32) {
        if (!registry.isAllowed(vault, token)) revert TokenNotAllowed(vault, token);
        _checkSignature(agentId, digest, signature);
        return _consumeNonce(agentId, deadline, nonce);
    }

    function _checkSignature(uint256 agentId, bytes32 digest, bytes calldata signature) private view {
        address signer = _signers[agentId];
        if (signer == address(0) || signature.length != 65) revert InvalidSignature();
        uint8 v = uint8(signature[64]);
        // The off-chain verifier accepts v as 0/1 as well as 27/28; so does the chain.
        if (v < 27) v += 27;
        // tryRecover refuses high-s signatures (the malleable twin of a valid one).
        (address recovered, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(digest, v, bytes32(signature[0:32]), bytes32(signature[32:64]));
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert InvalidSignature();
    }

    function _consumeNonce(uint256 agentId, uint256 deadline, uint256 nonce) private returns (bytes32 orderId) {
        if (deadline <= block.timestamp) revert DeadlineExpired(deadline, block.timestamp);
        uint256 expected = nonces[agentId];
        if (nonce != expected) revert NonceMismatch(expected, nonce);
        orderId = intentOrderId(agentId, nonce);
        if (_orders[orderId].status != STATUS_NONE) revert OrderAlreadyExecuted(orderId);
        nonces[agentId] = expected + 1;
    }

    /// @dev Takes `amount` out of a position and its cost in proportion (all of the cost when it closes).
    function _reduce(uint256 agentId, address vault, address token, uint256 amount) private {
        Position storage p = positions[agentId][vault][token];
        if (amount == p.size) {
            delete positions[agentId][vault][token];
            emit PositionUpdated(agentId, vault, token, 0, 0, bytes32(0));
        } else {
            // Floor the cost removed: what remains never drops below its exact share (and stays > 0).
            p.costUsdc -= (p.costUsdc * amount) / p.size;
            p.size -= amount;
            emit PositionUpdated(agentId, vault, token, p.size, p.costUsdc, p.exitsHash);
        }
    }

    /// @dev pnlBps = (size × price − cost) / cost × 10000 (long, leverage 1), compared exactly:
    ///      with value and cost on the common scale 10^(tokenDecimals + 8) × USDC units,
    ///      reached ⇔ (value − cost) × 10000 ≤ triggerBps × cost (StopLoss) or ≥ (TakeProfit).
    ///      The pnlBps returned (for the error and the event) is that ratio truncated toward zero.
    function _ruleReached(Position storage p, uint256 priceE8, uint8 tokenDecimals, ExitRule calldata rule)
        private
        view
        returns (bool reached, int256 pnlBps)
    {
        int256 value = SafeCast.toInt256(p.size * priceE8 * 10 ** usdcDecimals);
        int256 cost = SafeCast.toInt256(p.costUsdc * 10 ** (uint256(tokenDecimals) + 8));
        if (cost == 0) cost = 1; // unreachable (an open position always has a cost), but never divide by zero
        int256 scaledPnl = (value - cost) * int256(uint256(BPS));
        int256 bound = int256(rule.triggerBps) * cost;
        pnlBps = scaledPnl / cost;
        reached = rule.triggerType == STOP_LOSS ? scaledPnl <= bound : scaledPnl >= bound;
    }
}
