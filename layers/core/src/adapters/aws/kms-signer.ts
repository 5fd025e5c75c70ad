import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type KMSClient,
  SignCommand,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { algorithmOf, keyIdOf, type SignatureAlgorithm } from '../../domain/dsse.ts';
import type { Signer } from '../../ports/signer.ts';

/** KMS accepts at most this many bytes as a RAW message (Ed25519 signs the message itself). */
const KMS_RAW_MESSAGE_LIMIT = 4096;

/**
 * Signs with a KMS asymmetric key (AUDIT_SIGNING_KMS_KEY_ID). An ECC_NIST_EDWARDS25519 key signs Ed25519 -
 * deterministic, like the local signer; where that key spec is not offered an ECC_NIST_P256 key signs
 * ECDSA P-256 / SHA-256 (randomized: the envelope then differs between two exports of the same window,
 * the signed manifest does not). The key spec is read from the public key once per container.
 */
export class KmsSigner implements Signer {
  private key: Promise<{ publicKey: KeyObject; algorithm: SignatureAlgorithm }> | undefined;

  constructor(
    private readonly client: KMSClient,
    private readonly keyId_: string,
  ) {}

  async keyId(): Promise<string> {
    return keyIdOf((await this.publicKey()).publicKey);
  }

  async algorithm(): Promise<SignatureAlgorithm> {
    return (await this.publicKey()).algorithm;
  }

  async publicKeyPem(): Promise<string> {
    return (await this.publicKey()).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  async sign(message: Buffer): Promise<Buffer> {
    const { algorithm } = await this.publicKey();
    const spec: SigningAlgorithmSpec = algorithm === 'ed25519' ? 'ED25519_SHA_512' : 'ECDSA_SHA_256';
    if (algorithm === 'ed25519' && message.length > KMS_RAW_MESSAGE_LIMIT) {
      throw new Error(`KMS signs at most ${KMS_RAW_MESSAGE_LIMIT} bytes with Ed25519; got ${message.length}`);
    }
    // ECDSA: KMS signs the SHA-256 digest we send, which is what verifying the message with SHA-256 checks.
    const request =
      algorithm === 'ed25519'
        ? { Message: message, MessageType: 'RAW' as const }
        : { Message: createHash('sha256').update(message).digest(), MessageType: 'DIGEST' as const };
    const result = await this.client.send(
      new SignCommand({ KeyId: this.keyId_, ...request, SigningAlgorithm: spec }),
    );
    if (!result.Signature) throw new Error('KMS returned no signature');
    return Buffer.from(result.Signature);
  }

  private publicKey() {
    this.key ??= this.client
      .send(new GetPublicKeyCommand({ KeyId: this.keyId_ }))
      .then((result) => {
        if (!result.PublicKey) throw new Error('KMS returned no public key');
        const publicKey = createPublicKey({
          key: Buffer.from(result.PublicKey),
          format: 'der',
          type: 'spki',
        });
        const algorithm = algorithmOf(publicKey);
        if (!algorithm) {
          throw new Error(
            `KMS key ${this.keyId_}: spec ${result.KeySpec} cannot sign bundles (use ECC_NIST_EDWARDS25519 or ECC_NIST_P256)`,
          );
        }
        return { publicKey, algorithm };
      })
      .catch((error: unknown) => {
        this.key = undefined;
        throw error;
      });
    return this.key;
  }
}
