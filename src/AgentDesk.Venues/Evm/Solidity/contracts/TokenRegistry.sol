// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @title TokenRegistry
/// @notice The on-chain allowlist. It knows which tokens trade (a "market": the token, its decimals and its
///         8-decimal price feed) and, for signed intents, which tokens each vault may hold.
/// @dev Only DEFAULT_ADMIN_ROLE writes. The pool prices from `marketOf`, the router admits intents with
///      `isAllowed` and batches with `isListed`.
contract TokenRegistry is AccessControl {
    /// @notice Feeds must quote with this many decimals: the pool's and router's math is written for E8 prices.
    uint8 public constant PRICE_DECIMALS = 8;
    /// @notice Above this, 10**(decimals + 8) stops fitting comfortably in the router's signed PnL math.
    uint8 public constant MAX_TOKEN_DECIMALS = 36;

    struct Market {
        address feed;
        uint8 decimals;
    }

    event MarketSet(address indexed token, address indexed feed, uint8 decimals);
    event VaultTokenSet(address indexed vault, address indexed token, bool allowed);

    error ZeroAddress();
    error NotListed(address token);
    error UnsupportedFeedDecimals(address feed, uint8 decimals);
    error UnsupportedTokenDecimals(address token, uint8 decimals);

    mapping(address token => Market) private _markets;
    mapping(address vault => mapping(address token => bool)) private _allowed;

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Lists `token` with its price feed, or delists it when `feed` is zero (which also stops every
    ///         vault from trading it: `isAllowed` requires a listing).
    function setMarket(address token, address feed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert ZeroAddress();
        if (feed == address(0)) {
            delete _markets[token];
            emit MarketSet(token, address(0), 0);
            return;
        }
        uint8 feedDecimals = AggregatorV3Interface(feed).decimals();
        if (feedDecimals != PRICE_DECIMALS) revert UnsupportedFeedDecimals(feed, feedDecimals);
        uint8 tokenDecimals = IERC20Metadata(token).decimals();
        if (tokenDecimals > MAX_TOKEN_DECIMALS) revert UnsupportedTokenDecimals(token, tokenDecimals);
        _markets[token] = Market(feed, tokenDecimals);
        emit MarketSet(token, feed, tokenDecimals);
    }

    /// @notice Lets signed intents for `vault` trade `token`. The token must be listed first.
    function allow(address vault, address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (vault == address(0)) revert ZeroAddress();
        if (_markets[token].feed == address(0)) revert NotListed(token);
        _allowed[vault][token] = true;
        emit VaultTokenSet(vault, token, true);
    }

    function disallow(address vault, address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _allowed[vault][token] = false;
        emit VaultTokenSet(vault, token, false);
    }

    function feedOf(address token) external view returns (address) {
        return _markets[token].feed;
    }

    function decimalsOf(address token) external view returns (uint8) {
        return _markets[token].decimals;
    }

    /// @notice The feed and decimals in one call (the pool needs both on every swap). Zero feed = not listed.
    function marketOf(address token) external view returns (address feed, uint8 decimals) {
        Market storage m = _markets[token];
        return (m.feed, m.decimals);
    }

    function isListed(address token) public view returns (bool) {
        return _markets[token].feed != address(0);
    }

    /// @notice True when `vault` may trade `token` through signed intents (allowed and still listed).
    function isAllowed(address vault, address token) external view returns (bool) {
        return _allowed[vault][token] && isListed(token);
    }
}
