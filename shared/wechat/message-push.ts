// WeChat's message push (消息推送) to a server URL: every request carries `signature`, `timestamp` and
// `nonce` in its query, signature = sha1 of the three sorted strings [Token, timestamp, nonce];
// the URL check (GET) also carries `echostr`, to be echoed back. Plaintext JSON mode.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret';

export function messageSignature(token: string, timestamp: string, nonce: string): string {
  return createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
}

export function verifyMessageSignature(token: Secret, query: Record<string, string>): boolean {
  const { signature, timestamp, nonce } = query;
  if (!signature || !timestamp || !nonce || !/^[0-9a-f]{40}$/i.test(signature)) return false;
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9]{1,64}$/.test(nonce)) return false;
  const expected = Buffer.from(messageSignature(token.reveal(), timestamp, nonce), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
