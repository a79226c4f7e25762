// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Vault
/// @notice Holds the USDC that agents trade with through signed intents, and the tokens they buy.
/// @dev Exactly one contract can move its funds: the router, set once by the admin. The admin itself cannot
///      move funds, and cannot swap the router for another (a replaceable router would be a withdrawal key).
///      The router only moves funds for intents its agents signed, into and out of the pool.
contract Vault is AccessControl {
    using SafeERC20 for IERC20;

    IERC20 public immutable usdc;
    address public router;

    event RouterSet(address indexed router);

    error ZeroAddress();
    error RouterAlreadySet(address router);
    error NotRouter(address caller);

    constructor(address usdc_, address admin) {
        if (usdc_ == address(0) || admin == address(0)) revert ZeroAddress();
        usdc = IERC20(usdc_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function setRouter(address router_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (router_ == address(0)) revert ZeroAddress();
        if (router != address(0)) revert RouterAlreadySet(router);
        router = router_;
        emit RouterSet(router_);
    }

    /// @notice Moves `amount` of `token` to `to`. Router only.
    function transferOut(address token, address to, uint256 amount) external {
        if (msg.sender != router) revert NotRouter(msg.sender);
        IERC20(token).safeTransfer(to, amount);
    }
}
