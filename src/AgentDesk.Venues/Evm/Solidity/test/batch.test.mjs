// Batches for SWAP agents' subscribers against a real anvil: per-order isolation, consent, idempotent retries,
// closes, and the gas per order that the off-chain relayer chunks by.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ethers } from "ethers";
import {
  USDC, NVDA_PRICE, SPREAD_BPS, setupVenue, send, routerEvents, revertsWith, selector, agentIdOf, expectedBuy, expectedSell,
} from "./lib/chain.mjs";

const BIG_BATCH = 200;
const BLOCK_GAS = 30_000_000n;
// Osaka's EIP-7825 caps one transaction at 2^24 gas on chains that adopt it.
const OSAKA_TX_GAS_CAP = 16_777_216n;

describe("batches for SWAP agents' subscribers", { timeout: 300_000 }, () => {
  let v;
  let nvdaAddress, poolAddress;
  const agentId = agentIdOf("8d1f5c2e-0b7a-4c1e-9f3d-2a6b4c8e1d70");

  before(async () => {
    // Enough unlocked, funded accounts for a 200-subscriber batch plus the functional ones.
    v = await setupVenue({ anvilArgs: ["--accounts", String(BIG_BATCH + 20)] });
    nvdaAddress = await v.nvda.getAddress();
    poolAddress = await v.pool.getAddress();
  });

  after(async () => {
    v?.provider.destroy();
    await v?.anvil.stop();
  });

  const router = () => v.router.connect(v.executor);

  /**
   * Mints USDC to, and sets consent and approvals for, each subscriber as asked. Hundreds of setup transactions
   * go into a few full blocks rather than one block each: automine is off while they are sent, then blocks are
   * mined until the pool is empty.
   */
  async function prepare(subscribers, { usdc = USDC(1_000), consent = true, approveUsdc = true, approveNvda = false } = {}) {
    const admin = v.admin.address;
    const txs = [];
    const usdcAddress = await v.usdc.getAddress();
    for (const s of subscribers) {
      if (usdc > 0n) txs.push({ from: admin, to: usdcAddress, data: v.usdc.interface.encodeFunctionData("mint", [s, usdc]) });
      if (consent) txs.push({ from: s, to: v.routerAddress, data: v.router.interface.encodeFunctionData("setConsent", [agentId, true]) });
      if (approveUsdc) txs.push({ from: s, to: usdcAddress, data: v.usdc.interface.encodeFunctionData("approve", [v.routerAddress, ethers.MaxUint256]) });
      if (approveNvda) txs.push({ from: s, to: nvdaAddress, data: v.nvda.interface.encodeFunctionData("approve", [v.routerAddress, ethers.MaxUint256]) });
    }
    // A fixed gas limit: otherwise anvil estimates each one against a pending block that grows with the pool.
    for (const t of txs) t.gas = ethers.toQuantity(100_000);
    const rpc = (method, params = []) => v.provider.send(method, params);
    const hashes = [];
    await rpc("evm_setAutomine", [false]);
    try {
      // The admin's mints carry explicit nonces, so they can go out together (nothing is mined until all are in).
      const first = await v.provider.getTransactionCount(admin, "pending");
      const mints = txs.filter((t) => t.from === admin).map((t, i) => ({ ...t, nonce: ethers.toQuantity(first + i) }));
      hashes.push(...(await Promise.all(mints.map((t) => rpc("eth_sendTransaction", [t])))));
      // Anvil numbers the other senders' transactions as they arrive: one sender's go one after another,
      // different senders' together, round by round.
      const bySender = new Map();
      for (const t of txs.filter((t) => t.from !== admin)) bySender.set(t.from, [...(bySender.get(t.from) ?? []), t]);
      for (let round = 0; ; round++) {
        const batch = [...bySender.values()].map((list) => list[round]).filter(Boolean);
        if (batch.length === 0) break;
        hashes.push(...(await Promise.all(batch.map((t) => rpc("eth_sendTransaction", [t])))));
      }
      for (let blocks = 0; ; blocks++) {
        assert.ok(blocks < 200, "setup transactions were all mined");
        await rpc("evm_mine");
        const status = await rpc("txpool_status");
        if (BigInt(status.pending) === 0n && BigInt(status.queued) === 0n) break;
      }
    } finally {
      await rpc("evm_setAutomine", [true]);
    }
    const receipts = await Promise.all(hashes.map((h) => v.provider.getTransactionReceipt(h)));
    receipts.forEach((r, i) => assert.equal(r?.status, 1, `setup transaction ${hashes[i]}`));
  }

  async function balances(addresses) {
    return Promise.all(addresses.map(async (a) => ({ usdc: await v.usdc.balanceOf(a), nvda: await v.nvda.balanceOf(a) })));
  }

  const buy = (orderId, account, usdcAmount, extra = {}) => ({ orderId, account, usdcAmount, minTokenOut: 0n, maxSlippageBps: 50, ...extra });
  const sell = (orderId, account, tokenAmount, extra = {}) => ({ orderId, account, tokenAmount, minUsdcOut: 0n, maxSlippageBps: 50, ...extra });

  test("batchOpen: consenting, approving subscribers fill; the others fail with reasons and keep their funds; a resend skips all", async () => {
    const [ok1, ok2, ok3, noConsent, noAllowance, noFunds, tightSlippage] = v.accounts.slice(2, 9).map((a) => a.address);
    await prepare([ok1, ok2, ok3, tightSlippage]);
    await prepare([noConsent], { consent: false });
    await prepare([noAllowance], { approveUsdc: false });
    await prepare([noFunds], { usdc: 0n });

    const orders = [
      buy(ethers.id("b1-0"), ok1, USDC(100)),
      buy(ethers.id("b1-1"), noConsent, USDC(100)),
      buy(ethers.id("b1-2"), ok2, USDC(250)),
      buy(ethers.id("b1-3"), noAllowance, USDC(100)),
      buy(ethers.id("b1-4"), noFunds, USDC(100)),
      buy(ethers.id("b1-5"), ok3, USDC(999.99)),
      buy(ethers.id("b1-6"), tightSlippage, USDC(100), { maxSlippageBps: SPREAD_BPS - 1 }),
      buy(ethers.id("b1-7"), ok1, USDC(100), { minTokenOut: expectedBuy(USDC(100), NVDA_PRICE).tokenOut + 1n }),
    ];
    const expectedFailures = {
      [ethers.id("b1-1")]: "ConsentMissing",
      [ethers.id("b1-3")]: "InsufficientAllowance",
      [ethers.id("b1-4")]: "InsufficientBalance",
      [ethers.id("b1-6")]: "SlippageExceeded",
      [ethers.id("b1-7")]: "MinOutNotMet",
    };
    const everyone = [ok1, ok2, ok3, noConsent, noAllowance, noFunds, tightSlippage, poolAddress];
    const before = await balances(everyone);

    const receipt = await send(router().batchOpen(agentId, nvdaAddress, orders));
    const events = routerEvents(receipt, v.routerAddress);
    const filled = events.filter((e) => e.name === "OrderFilled");
    const failed = events.filter((e) => e.name === "OrderFailed");
    assert.equal(filled.length + failed.length, orders.length, "one outcome per order");
    assert.deepEqual(filled.map((e) => e.args.orderId), [ethers.id("b1-0"), ethers.id("b1-2"), ethers.id("b1-5")]);
    for (const f of failed) {
      assert.equal(f.args.reason, selector(expectedFailures[f.args.orderId]), `order ${f.args.orderId}: ${expectedFailures[f.args.orderId]}`);
      assert.equal(f.args.agentId, agentId);
      assert.deepEqual([...(await v.router.orders(f.args.orderId))], [2n, 0n, 0n]);
    }
    assert.equal(failed.length, Object.keys(expectedFailures).length);

    // Balances moved by exactly what OrderFilled reported, and nobody else's moved.
    const after = await balances(everyone);
    const delta = new Map(everyone.map((a) => [a, { usdc: 0n, nvda: 0n }]));
    for (const f of filled) {
      const order = orders.find((o) => o.orderId === f.args.orderId);
      assert.equal(f.args.account, order.account);
      assert.equal(f.args.buy, true);
      assert.equal(f.args.token, nvdaAddress);
      assert.equal(f.args.usdcAmount, order.usdcAmount);
      assert.equal(f.args.tokenAmount, expectedBuy(order.usdcAmount, NVDA_PRICE).tokenOut);
      assert.deepEqual([...(await v.router.orders(f.args.orderId))], [1n, f.args.usdcAmount, f.args.tokenAmount]);
      delta.get(order.account).usdc -= f.args.usdcAmount;
      delta.get(order.account).nvda += f.args.tokenAmount;
      delta.get(poolAddress).usdc += f.args.usdcAmount;
      delta.get(poolAddress).nvda -= f.args.tokenAmount;
    }
    everyone.forEach((a, i) => {
      assert.equal(after[i].usdc - before[i].usdc, delta.get(a).usdc, `USDC of ${a}`);
      assert.equal(after[i].nvda - before[i].nvda, delta.get(a).nvda, `NVDA of ${a}`);
    });

    // The relayer retries the very same batch: every id has executed, so each is skipped and nothing moves.
    const again = await send(router().batchOpen(agentId, nvdaAddress, orders));
    const againEvents = routerEvents(again, v.routerAddress);
    assert.deepEqual(againEvents.map((e) => e.name), orders.map(() => "OrderSkipped"));
    assert.deepEqual(againEvents.map((e) => e.args.orderId), orders.map((o) => o.orderId));
    assert.deepEqual(await balances(everyone), after);

    // Consent can be withdrawn: the next open fails for that account.
    await send(v.router.connect(v.accounts[2]).setConsent(agentId, false));
    assert.equal(await v.router.consents(ok1, agentId), false);
    const withdrawn = routerEvents(await send(router().batchOpen(agentId, nvdaAddress, [buy(ethers.id("b1-8"), ok1, USDC(1))])), v.routerAddress);
    assert.equal(withdrawn[0].args.reason, selector("ConsentMissing"));
    await send(v.router.connect(v.accounts[2]).setConsent(agentId, true));
  });

  test("batches: an unlisted token or a caller without the executor role reverts the whole call", async () => {
    await revertsWith(router().batchOpen.staticCall(agentId, v.admin.address, []), "TokenNotListed");
    await revertsWith(v.router.connect(v.accounts[2]).batchOpen.staticCall(agentId, nvdaAddress, []), "AccessControlUnauthorizedAccount");
    await revertsWith(v.router.connect(v.accounts[2]).batchClose.staticCall(agentId, nvdaAddress, []), "AccessControlUnauthorizedAccount");
    // settle is the router's own isolation frame: nobody else may call it.
    const trade = [ethers.ZeroHash, agentId, v.accounts[2].address, nvdaAddress, true, false, 1n, 0n, 50];
    await revertsWith(router().settle.staticCall(trade), "OnlySelf");
  });

  test("batchClose: sells the subscribers' tokens back to USDC; balances equal what OrderFilled reported", async () => {
    const [ok1, ok2, ok3, noConsent] = v.accounts.slice(2, 6).map((a) => a.address);
    await prepare([ok1, ok2, ok3], { usdc: 0n, consent: false, approveUsdc: false, approveNvda: true });
    const held = await balances([ok1, ok2, ok3]);
    const orders = [
      sell(ethers.id("c1-0"), ok1, held[0].nvda),
      sell(ethers.id("c1-1"), ok2, held[1].nvda / 2n),
      sell(ethers.id("c1-2"), ok3, held[2].nvda, { minUsdcOut: expectedSell(held[2].nvda, NVDA_PRICE).usdcOut + 1n }),
      sell(ethers.id("c1-3"), noConsent, 1n), // holds no NVDA
    ];
    const everyone = [ok1, ok2, ok3, noConsent, poolAddress];
    const before = await balances(everyone);
    const receipt = await send(router().batchClose(agentId, nvdaAddress, orders));
    const events = routerEvents(receipt, v.routerAddress);
    const filled = events.filter((e) => e.name === "OrderFilled");
    const failed = events.filter((e) => e.name === "OrderFailed");
    assert.deepEqual(filled.map((e) => e.args.orderId), [ethers.id("c1-0"), ethers.id("c1-1")]);
    assert.deepEqual(failed.map((e) => [e.args.orderId, e.args.reason]), [
      [ethers.id("c1-2"), selector("MinOutNotMet")],
      [ethers.id("c1-3"), selector("InsufficientBalance")],
    ]);
    const after = await balances(everyone);
    for (const f of filled) {
      const i = everyone.indexOf(f.args.account);
      assert.equal(f.args.buy, false);
      assert.equal(f.args.usdcAmount, expectedSell(f.args.tokenAmount, NVDA_PRICE).usdcOut);
      assert.equal(after[i].usdc - before[i].usdc, f.args.usdcAmount, "USDC returned = reported");
      assert.equal(before[i].nvda - after[i].nvda, f.args.tokenAmount, "tokens taken = reported");
    }
    assert.deepEqual(after[2], before[2], "the failed close left ok3's funds alone");
    assert.deepEqual(after[3], before[3]);
    const sum = (k) => filled.reduce((s, f) => s + f.args[k], 0n);
    assert.equal(before[4].usdc - after[4].usdc, sum("usdcAmount"));
    assert.equal(after[4].nvda - before[4].nvda, sum("tokenAmount"));
    // Resend: skipped.
    const again = routerEvents(await send(router().batchClose(agentId, nvdaAddress, orders)), v.routerAddress);
    assert.deepEqual(again.map((e) => e.name), orders.map(() => "OrderSkipped"));
  });

  test(`gas per order, and a ${BIG_BATCH}-order batchOpen (worst case: every subscriber new to the token)`, async (t) => {
    const subscribers = v.accounts.slice(20, 20 + BIG_BATCH).map((a) => a.address);
    const single = v.accounts[10].address;
    const setupStart = performance.now();
    await prepare([...subscribers, single], { approveNvda: true });
    t.diagnostic(`setup of ${subscribers.length + 1} subscribers (mint, consent, 2 approvals): ${Math.round(performance.now() - setupStart)} ms`);

    const empty = await send(router().batchOpen(agentId, nvdaAddress, []));
    const one = await send(router().batchOpen(agentId, nvdaAddress, [buy(ethers.id("g-single"), single, USDC(100))]));
    const orders = subscribers.map((s, i) => buy(ethers.id(`g-${i}`), s, USDC(100 + i)));

    // The gas limit a relayer must send (what eth_estimateGas asks for), then the transaction itself.
    const estimate = await router().batchOpen.estimateGas(agentId, nvdaAddress, orders);
    const started = performance.now();
    const big = await send(router().batchOpen(agentId, nvdaAddress, orders, { gasLimit: estimate }));
    const elapsed = performance.now() - started;
    const events = routerEvents(big, v.routerAddress);
    assert.equal(events.filter((e) => e.name === "OrderFilled").length, BIG_BATCH, "every order filled");

    const base = empty.gasUsed;
    const perOrder = (big.gasUsed - base) / BigInt(BIG_BATCH);
    const singleOrder = one.gasUsed - base;
    // The last order needs MIN_GAS_PER_ORDER available when it starts, on top of what the batch used.
    const headroom = await v.router.MIN_GAS_PER_ORDER();
    const fit = (limit) => (limit - base - headroom) / perOrder;

    // Closing the same 200 (token approval already given): gas per close order.
    const closeEmpty = await send(router().batchClose(agentId, nvdaAddress, []));
    const held = await Promise.all(subscribers.map((s) => v.nvda.balanceOf(s)));
    const closes = subscribers.map((s, i) => sell(ethers.id(`gc-${i}`), s, held[i]));
    const closeBig = await send(router().batchClose(agentId, nvdaAddress, closes));
    assert.equal(routerEvents(closeBig, v.routerAddress).filter((e) => e.name === "OrderFilled").length, BIG_BATCH);
    const perClose = (closeBig.gasUsed - closeEmpty.gasUsed) / BigInt(BIG_BATCH);

    t.diagnostic(`batchOpen: empty batch ${base} gas; 1 order ${one.gasUsed} gas (${singleOrder} for the order)`);
    t.diagnostic(`batchOpen of ${BIG_BATCH} orders: ${big.gasUsed} gas used (estimateGas ${estimate}) = ${perOrder} gas per order; ${Math.round(elapsed)} ms on anvil (send to receipt)`);
    t.diagnostic(`batchClose of ${BIG_BATCH} orders: ${closeBig.gasUsed} gas = ${perClose} gas per order`);
    t.diagnostic(`orders that fit one transaction: ${fit(BLOCK_GAS)} in a 30M-gas block, ${fit(OSAKA_TX_GAS_CAP)} under Osaka's 2^24 per-transaction cap (headroom ${headroom} for the last order)`);
    assert.ok(estimate <= BLOCK_GAS, `${BIG_BATCH} orders fit a 30M-gas block`);
    assert.ok(perOrder < 150_000n, `gas per order ${perOrder} stays under the 150k the relayer's chunking assumes`);
  });
});
