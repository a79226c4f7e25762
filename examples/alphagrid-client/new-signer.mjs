#!/usr/bin/env node
// Prints a fresh private key and its address: the address is what the agent registers as `signerAddress`,
// the key is what quote-sign-submit.mjs signs with. Keep the key secret; this is an example, not a wallet.
//
//   node new-signer.mjs            private key and address, one per line, labelled
//   node new-signer.mjs --json     {"privateKey": "0x…", "address": "0x…"}
//   node new-signer.mjs --shell    PK=0x… and SIGNER=0x…, for: eval "$(node new-signer.mjs --shell)"
import { Wallet } from "ethers";

const wallet = Wallet.createRandom();
const privateKey = wallet.privateKey;
const address = wallet.address; // EIP-55 checksummed

if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ privateKey, address }));
} else if (process.argv.includes("--shell")) {
  console.log(`PK=${privateKey}`);
  console.log(`SIGNER=${address}`);
} else {
  console.log(`private key: ${privateKey}`);
  console.log(`address:     ${address}`);
}
