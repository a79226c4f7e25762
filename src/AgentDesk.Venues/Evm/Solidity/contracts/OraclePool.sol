// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {TokenRegistry} from "./TokenRegistry.sol";

/// @title OraclePool
/// @notice The venue: swaps USDC for listed tokens and back at the oracle price moved against the trader by
///         `spreadBps`. Buys fill at price × (1 + spread), sells at price × (1 − spread). It holds an inventory
///         of USDC and tokens and is the counterparty of every trade.
/// @dev Why an oracle pool and not an AMM: the agent signs a slippage bound (`maxSlippageBps`) and a minimum
///      out; an oracle-priced fill with a fixed, published spread makes the slippage of every fill known before
///      it is sent (the router refuses when spread > maxSlippageBps) and independent of order size or of
///      other orders in the same block, so a batch of many subscribers fills every one at the same price.
///
///      Rounding always favours the pool: the fill price is rounded up for buys and down for sells, then the
///      output amount is floored, so a trader never receives a base unit more than the exact math gives.
///
///      Only the router may swap, and it moves the input into the pool before calling `buy`/`sell`. The pool
///      does not re-measure that deposit (that would cost a storage write per order): it trusts its one router,
///      which is set once and can never be changed.
contract OraclePool is AccessControl {
    using SafeERC20 for IERC20;

    uint16 private constant BPS = 10_000;

    IERC20 public immutable usdc;
    uint8 public immutable usdcDecimals;
    TokenRegistry public immutable registry;
    /// @notice How far fills move against the trader, in bps of the oracle price.
    uint16 public immutable spreadBps;
    /// @notice A feed answer older than this is refused.
    uint32 public immutable maxPriceAgeSeconds;
    /// @notice The only caller of buy/sell; set once by the admin.
    address public router;

    event RouterSet(address indexed router);
    event Swap(
        address indexed token,
        address indexed recipient,
        bool buy,
        uint256 amountIn,
        uint256 amountOut,
        uint256 oraclePriceE8,
        uint256 fillPriceE8
    );
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    error ZeroAddress();
    error InvalidSpread(uint16 spreadBps);
    error RouterAlreadySet(address router);
    error NotRouter(address caller);
    error NotListed(address token);
    error StalePrice(address token, uint256 updatedAt, uint256 maxAgeSeconds);
    error InvalidPrice(address token, int256 answer);
    error InsufficientLiquidity(address token, uint256 available, uint256 required);
    error ZeroOutput();

    modifier onlyRouter() {
        if (msg.sender != router) revert NotRouter(msg.sender);
        _;
    }

    constructor(address usdc_, address registry_, uint16 spreadBps_, uint32 maxPriceAgeSeconds_, address admin) {
        if (usdc_ == address(0) || registry_ == address(0) || admin == address(0)) revert ZeroAddress();
        if (spreadBps_ >= BPS) revert InvalidSpread(spreadBps_);
        usdc = IERC20(usdc_);
        usdcDecimals = IERC20Metadata(usdc_).decimals();
        registry = TokenRegistry(registry_);
        spreadBps = spreadBps_;
        maxPriceAgeSeconds = maxPriceAgeSeconds_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Sets the router once. Set-once on purpose: whoever can change the router can drain the pool.
    function setRouter(address router_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (router_ == address(0)) revert ZeroAddress();
        if (router != address(0)) revert RouterAlreadySet(router);
        router = router_;
        emit RouterSet(router_);
    }

    /// @notice Takes inventory out (the pool's own market-making funds; no trader's money rests here).
    function withdraw(address token, address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        IERC20(token).safeTransfer(to, amount);
        emit Withdrawn(token, to, amount);
    }

    /// @notice Buys `token` with `usdcIn` USDC already transferred to the pool; pays the tokens to `recipient`.
    /// @return tokenOut tokens paid, in the token's base units
    /// @return priceE8 the fill price (USDC per whole token, 8 decimals): the oracle price plus the spread
    function buy(address token, uint256 usdcIn, address recipient)
        external
        onlyRouter
        returns (uint256 tokenOut, uint256 priceE8)
    {
        uint256 oracle;
        (tokenOut, priceE8, oracle) = _quoteBuy(token, usdcIn);
        _pay(IERC20(token), recipient, tokenOut);
        emit Swap(token, recipient, true, usdcIn, tokenOut, oracle, priceE8);
    }

    /// @notice Sells `tokenIn` of `token` already transferred to the pool; pays the USDC to `recipient`.
    /// @return usdcOut USDC paid, in base units (6 decimals)
    /// @return priceE8 the fill price: the oracle price minus the spread
    function sell(address token, uint256 tokenIn, address recipient)
        external
        onlyRouter
        returns (uint256 usdcOut, uint256 priceE8)
    {
        uint256 oracle;
        (usdcOut, priceE8, oracle) = _quoteSell(token, tokenIn);
        _pay(usdc, recipient, usdcOut);
        emit Swap(token, recipient, false, tokenIn, usdcOut, oracle, priceE8);
    }

    /// @notice What `buy` would pay now (reverts as `buy` would on a bad price).
    function quoteBuy(address token, uint256 usdcIn) external view returns (uint256 tokenOut, uint256 priceE8) {
        (tokenOut, priceE8,) = _quoteBuy(token, usdcIn);
    }

    /// @notice What `sell` would pay now (reverts as `sell` would on a bad price).
    function quoteSell(address token, uint256 tokenIn) external view returns (uint256 usdcOut, uint256 priceE8) {
        (usdcOut, priceE8,) = _quoteSell(token, tokenIn);
    }

    /// @notice The feed's latest answer after the pool's checks: listed, positive, not older than
    ///         maxPriceAgeSeconds. The router evaluates exit rules at this price.
    function oraclePrice(address token) public view returns (uint256 priceE8, uint8 tokenDecimals) {
        address feed;
        (feed, tokenDecimals) = registry.marketOf(token);
        if (feed == address(0)) revert NotListed(token);
        (, int256 answer,, uint256 updatedAt,) = AggregatorV3Interface(feed).latestRoundData();
        if (answer <= 0) revert InvalidPrice(token, answer);
        // updatedAt == 0 is an unfinished round; a timestamp ahead of the block is treated as fresh.
        if (updatedAt == 0 || (block.timestamp > updatedAt && block.timestamp - updatedAt > maxPriceAgeSeconds)) {
            revert StalePrice(token, updatedAt, maxPriceAgeSeconds);
        }
        priceE8 = uint256(answer);
    }

    function _quoteBuy(address token, uint256 usdcIn)
        private
        view
        returns (uint256 tokenOut, uint256 fillE8, uint256 oracleE8)
    {
        uint8 tokenDecimals;
        (oracleE8, tokenDecimals) = oraclePrice(token);
        // Buyer pays more: round the fill price up.
        fillE8 = Math.mulDiv(oracleE8, BPS + spreadBps, BPS, Math.Rounding.Ceil);
        // tokenOut = usdcIn / fill, rescaled from USDC decimals to token decimals; floored.
        tokenOut = Math.mulDiv(usdcIn, 10 ** (uint256(tokenDecimals) + 8), fillE8 * 10 ** usdcDecimals);
        if (tokenOut == 0) revert ZeroOutput();
    }

    function _quoteSell(address token, uint256 tokenIn)
        private
        view
        returns (uint256 usdcOut, uint256 fillE8, uint256 oracleE8)
    {
        uint8 tokenDecimals;
        (oracleE8, tokenDecimals) = oraclePrice(token);
        // Seller receives less: round the fill price down.
        fillE8 = Math.mulDiv(oracleE8, BPS - spreadBps, BPS);
        // usdcOut = tokenIn × fill, rescaled from token decimals to USDC decimals; floored.
        usdcOut = Math.mulDiv(tokenIn, fillE8 * 10 ** usdcDecimals, 10 ** (uint256(tokenDecimals) + 8));
        if (usdcOut == 0) revert ZeroOutput();
    }

    function _pay(IERC20 asset, address to, uint256 amount) private {
        uint256 available = asset.balanceOf(address(this));
        if (available < amount) revert InsufficientLiquidity(address(asset), available, amount);
        asset.safeTransfer(to, amount);
    }
}
