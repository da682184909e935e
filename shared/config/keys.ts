// Key material from environment variables. CloudBase's variable editor and dotenv files mangle
// newlines, so a key arrives as real PEM, PEM with literal "\n", PEM whose newlines became spaces, or
// just the base64 body on one line. All of them are normalised to DER and parsed into KeyObjects.
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError } from './errors';

interface DecodedKeyText {
  /** The PEM label (`PRIVATE KEY`, `RSA PRIVATE KEY`, `PUBLIC KEY`, `CERTIFICATE`…); absent for a bare body. */
  label?: string;
  der: Buffer;
}

const FORMS = 'PEM, PEM with literal \\n, or the base64 body on one line';

function decodeKeyText(variable: string, raw: string, what: string): DecodedKeyText {
  let text = raw.trim();
  if ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'")))
    text = text.slice(1, -1).trim();
  text = text.replace(/\\r\\n|\\n|\\r/g, '\n');
  let label: string | undefined;
  let body = text;
  const pem = /^-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----$/.exec(text);
  if (pem) {
    if (pem[1] !== pem[3])
      throw new ConfigError(
        variable,
        `${variable} has mismatched PEM BEGIN/END lines; paste ${what} again, complete and unchanged`,
      );
    label = pem[1];
    body = pem[2]!;
    if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(body)) {
      throw new ConfigError(
        variable,
        `${variable} is an encrypted (passphrase-protected) key; export it without a passphrase (openssl pkey -in key.pem -out plain.pem) and set that instead`,
      );
    }
  } else if (text.includes('-----')) {
    throw new ConfigError(
      variable,
      `${variable} looks like a truncated PEM block; paste ${what} again (${FORMS})`,
    );
  }
  body = body.replace(/\s+/g, '');
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw new ConfigError(variable, `${variable} is neither PEM nor base64; set it to ${what} (${FORMS})`);
  }
  return { label, der: Buffer.from(body, 'base64') };
}

function requireRsa(variable: string, key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(
      variable,
      `${variable} is a ${key.asymmetricKeyType ?? 'non-RSA'} key; WeChat Pay uses RSA keys — set it to ${what}`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048)
    throw new ConfigError(
      variable,
      `${variable} is a ${bits}-bit RSA key; WeChat Pay requires at least 2048 bits — set it to ${what}`,
    );
  return key;
}

/** The merchant's RSA private key (`apiclient_key.pem`). */
export function parseRsaPrivateKey(
  variable: string,
  raw: string,
  what = 'the content of apiclient_key.pem',
): KeyObject {
  const { label, der } = decodeKeyText(variable, raw, what);
  const attempts: Array<'pkcs8' | 'pkcs1'> =
    label === 'RSA PRIVATE KEY'
      ? ['pkcs1']
      : label === 'PRIVATE KEY'
        ? ['pkcs8']
        : label
          ? []
          : ['pkcs8', 'pkcs1'];
  if (label && attempts.length === 0)
    throw new ConfigError(
      variable,
      `${variable} holds a "${label}" block, not a private key; set it to ${what}`,
    );
  for (const type of attempts) {
    try {
      return requireRsa(variable, createPrivateKey({ key: der, format: 'der', type }), what);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
    }
  }
  throw new ConfigError(
    variable,
    `${variable} could not be read as a private key; set it to ${what} (${FORMS})`,
  );
}

/** An RSA public key (WeChat Pay public key `pub_key.pem` in public-key mode). */
export function parseRsaPublicKey(
  variable: string,
  raw: string,
  what = 'the content of pub_key.pem',
): KeyObject {
  const { label, der } = decodeKeyText(variable, raw, what);
  if (label === 'CERTIFICATE') {
    throw new ConfigError(
      variable,
      `${variable} holds a certificate; it must be the WeChat Pay public key (${what}, from 商户平台 → API安全 → 微信支付公钥), not a certificate`,
    );
  }
  const attempts: Array<'spki' | 'pkcs1'> =
    label === 'RSA PUBLIC KEY'
      ? ['pkcs1']
      : label === 'PUBLIC KEY'
        ? ['spki']
        : label
          ? []
          : ['spki', 'pkcs1'];
  if (label && attempts.length === 0)
    throw new ConfigError(
      variable,
      `${variable} holds a "${label}" block, not a public key; set it to ${what}`,
    );
  for (const type of attempts) {
    try {
      return requireRsa(variable, createPublicKey({ key: der, format: 'der', type }), what);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
    }
  }
  throw new ConfigError(
    variable,
    `${variable} could not be read as a public key; set it to ${what} (${FORMS})`,
  );
}

/** An X.509 certificate (the merchant's `apiclient_cert.pem`). */
export function parseCertificate(
  variable: string,
  raw: string,
  what = 'the content of apiclient_cert.pem',
): X509Certificate {
  const { label, der } = decodeKeyText(variable, raw, what);
  if (label && label !== 'CERTIFICATE')
    throw new ConfigError(
      variable,
      `${variable} holds a "${label}" block, not a certificate; set it to ${what}`,
    );
  try {
    return new X509Certificate(der);
  } catch {
    throw new ConfigError(
      variable,
      `${variable} could not be read as an X.509 certificate; set it to ${what} (${FORMS})`,
    );
  }
}
