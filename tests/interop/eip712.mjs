// Signs and verifies EIP-712 typed data with ethers 6, as an agent's client would.
// Reads a JSON array of requests on stdin, writes a JSON array of answers on stdout:
//   { "op": "sign",   "domain", "types", "message", "privateKey" }          -> { "signature", "address" }
//   { "op": "recover","domain", "types", "message", "signature" }           -> { "address" }
//   { "op": "exitsHash", "exits": [{ "triggerType": 0, "triggerBps": -500, "exitBps": 10000 }] } -> { "hash" }
import { Wallet, TypedDataEncoder, verifyTypedData } from "ethers";

const exitRuleTypes = {
  ExitRule: [
    { name: "triggerType", type: "uint8" },
    { name: "triggerBps", type: "int32" },
    { name: "exitBps", type: "uint16" },
  ],
};

// ethers derives the domain type itself and refuses an explicit EIP712Domain entry.
const withoutDomain = ({ EIP712Domain, ...types }) => types;

async function answer(request) {
  switch (request.op) {
    case "sign": {
      const wallet = new Wallet(request.privateKey);
      const signature = await wallet.signTypedData(request.domain, withoutDomain(request.types), request.message);
      return { signature, address: wallet.address };
    }
    case "recover":
      return { address: verifyTypedData(request.domain, withoutDomain(request.types), request.message, request.signature) };
    case "exitsHash":
      // How EIP-712 hashes an ExitRule[] member: keccak256 of the concatenated struct hashes.
      return { hash: TypedDataEncoder.from(exitRuleTypes).encodeData("ExitRule[]", request.exits) };
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const answers = [];
for (const request of JSON.parse(input)) {
  try {
    answers.push(await answer(request));
  } catch (error) {
    answers.push({ error: String(error.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(answers));
