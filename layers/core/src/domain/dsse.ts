import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * Dead Simple Signing Envelope (DSSE v1): the signature covers the pre-authentication encoding of the
 * payload type and the payload bytes, so neither can be swapped without breaking it. The export bundle
 * signs its manifest this way (docs/adr/0012-audit-and-provenance.md).
 */
export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes */
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** The signature algorithms a bundle signer uses: Ed25519 (files, KMS) or ECDSA P-256 / SHA-256 (KMS). */
export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256-sha256';

/** PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths as ASCII decimal bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

/** A key's id: `sha256:` + hex of its SubjectPublicKeyInfo (DER), the same for PEM and KMS keys. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** The algorithm a public key signs with, or null when bundles cannot use it. */
export function algorithmOf(publicKey: KeyObject): SignatureAlgorithm | null {
  if (publicKey.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ecdsa-p256-sha256';
  }
  return null;
}

/** Checks one DSSE signature (ECDSA signatures in DER, as KMS returns them). */
export function verifyDsseSignature(
  envelope: Pick<DsseEnvelope, 'payloadType'>,
  payload: Uint8Array,
  signature: Uint8Array,
  publicKey: KeyObject,
): boolean {
  const algorithm = algorithmOf(publicKey);
  if (algorithm === null) return false;
  const message = preAuthEncoding(envelope.payloadType, payload);
  try {
    return verify(algorithm === 'ed25519' ? null : 'sha256', message, publicKey, signature);
  } catch {
    return false;
  }
}
