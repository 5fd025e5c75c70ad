import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { algorithmOf, keyIdOf, type SignatureAlgorithm } from '../../domain/dsse.ts';
import type { Signer } from '../../ports/signer.ts';

/**
 * A signer over a private key held in memory: PEM (PKCS#8) from AUDIT_SIGNING_KEY_FILE or AUDIT_SIGNING_KEY.
 * Ed25519 signatures are deterministic, so the same manifest always gets the same envelope.
 */
export class KeySigner implements Signer {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly alg: SignatureAlgorithm;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    const alg = algorithmOf(this.publicKey);
    if (!alg) throw new Error('audit signing key: must be an Ed25519 or ECDSA P-256 private key (PEM)');
    this.alg = alg;
  }

  async keyId(): Promise<string> {
    return keyIdOf(this.publicKey);
  }

  async algorithm(): Promise<SignatureAlgorithm> {
    return this.alg;
  }

  async publicKeyPem(): Promise<string> {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  async sign(message: Buffer): Promise<Buffer> {
    return sign(this.alg === 'ed25519' ? null : 'sha256', message, this.privateKey);
  }
}
