import type { SignatureAlgorithm } from '../domain/dsse.ts';

/**
 * Signs export manifests (DSSE). Locally an Ed25519 key from a file or the environment; on AWS a KMS
 * asymmetric key (adapters/aws/kms-signer.ts). Verifiers need only the public key.
 */
export interface Signer {
  /** `sha256:` of the public key's SubjectPublicKeyInfo (DER). */
  keyId(): Promise<string>;
  algorithm(): Promise<SignatureAlgorithm>;
  publicKeyPem(): Promise<string>;
  /** Signs the message (the DSSE pre-authentication encoding); ECDSA signatures are DER. */
  sign(message: Buffer): Promise<Buffer>;
}
