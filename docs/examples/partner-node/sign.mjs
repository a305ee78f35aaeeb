// Prints the gkt-signature header value for a report, as a partner system would compute it.
//
//   node sign.mjs event.json key.pem nla-2026-01
//
// The payload is the exact bytes that will be the Kafka record value: sign the
// file you send, byte for byte. The signature is a JWS in compact serialization
// with a detached payload (RFC 7515 appendix F): <protected>..<signature>, and the
// protected header holds exactly {"alg", "kid"}.
import { readFile } from "node:fs/promises";
import { CompactSign, importPKCS8 } from "jose";

const [eventPath, keyPath, kid] = process.argv.slice(2);
if (!eventPath || !keyPath || !kid) {
  console.error("usage: node sign.mjs EVENT.json PRIVATE-KEY.pem KID");
  process.exit(2);
}

const payload = await readFile(eventPath); // bytes, not re-serialised JSON
const key = await importPKCS8(await readFile(keyPath, "utf8"), "EdDSA");
const jws = await new CompactSign(payload).setProtectedHeader({ alg: "EdDSA", kid }).sign(key);
const [header, , signature] = jws.split(".");
process.stdout.write(`${header}..${signature}\n`);
