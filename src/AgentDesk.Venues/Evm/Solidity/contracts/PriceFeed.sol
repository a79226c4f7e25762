// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @title PriceFeed
/// @notice A Chainlink-compatible feed whose owner pushes prices. Every `setPrice` starts a new round
///         stamped with the block's timestamp, so staleness checks behave as against a real feed.
contract PriceFeed is AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /// @notice Asked for a round that was never written (Chainlink reverts too).
    error RoundNotFound(uint80 roundId);

    uint8 public immutable override decimals;
    string public override description;
    uint256 public constant override version = 1;

    /// @notice The id of the latest round; rounds are numbered from 1.
    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    constructor(string memory description_, uint8 decimals_, int256 initialAnswer) Ownable(msg.sender) {
        description = description_;
        decimals = decimals_;
        _setPrice(initialAnswer);
    }

    /// @notice Starts a new round. Non-positive answers are accepted on purpose: consumers must refuse them,
    ///         and tests need a way to show that they do.
    function setPrice(int256 answer) external onlyOwner {
        _setPrice(answer);
    }

    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80, int256, uint256, uint256, uint80)
    {
        if (roundId == 0 || roundId > latestRound) revert RoundNotFound(roundId);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        uint80 id = latestRound;
        Round storage r = _rounds[id];
        return (id, r.answer, r.startedAt, r.updatedAt, id);
    }

    function _setPrice(int256 answer) private {
        uint80 id = latestRound + 1;
        latestRound = id;
        _rounds[id] = Round(answer, uint64(block.timestamp), uint64(block.timestamp));
        emit AnswerUpdated(answer, id, block.timestamp);
    }
}
