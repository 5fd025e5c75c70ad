import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../../layers/core/src/adapters/aws/kms-signer.ts';
import { S3ExportStore } from '../../../layers/core/src/adapters/aws/s3-export-store.ts';
import { keyIdOf, preAuthEncoding, verifyDsseSignature } from '../../../layers/core/src/domain/dsse.ts';

/** The AWS adapters of audit exports against mocked SDK clients: KMS signatures the verifier accepts, S3. */
const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  kms.reset();
  s3.reset();
});

const spki = (key: KeyObject) => new Uint8Array(key.export({ type: 'spki', format: 'der' }));
const message = preAuthEncoding('application/vnd.jobengine.audit-manifest+json', Buffer.from('{"m":1}\n'));

describe('KmsSigner', () => {
  it('signs Ed25519 with an ECC_NIST_EDWARDS25519 key: the raw message, verifiable offline', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: spki(publicKey), KeySpec: 'ECC_NIST_EDWARDS25519' });
    kms
      .on(SignCommand)
      .callsFake((input) => ({ Signature: new Uint8Array(sign(null, input.Message, privateKey)) }));
    const signer = new KmsSigner(new KMSClient({ region: 'us-east-1' }), 'alias/audit');
    expect(await signer.algorithm()).toBe('ed25519');
    expect(await signer.keyId()).toBe(keyIdOf(publicKey));
    const signature = await signer.sign(message);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toMatchObject({
      KeyId: 'alias/audit',
      MessageType: 'RAW',
      SigningAlgorithm: 'ED25519_SHA_512',
    });
    expect(
      verifyDsseSignature(
        { payloadType: 'application/vnd.jobengine.audit-manifest+json' },
        Buffer.from('{"m":1}\n'),
        signature,
        publicKey,
      ),
    ).toBe(true);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('signs ECDSA P-256 over the SHA-256 digest with an ECC_NIST_P256 key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: spki(publicKey), KeySpec: 'ECC_NIST_P256' });
    kms.on(SignCommand).callsFake((input) => {
      expect(Buffer.from(input.Message)).toEqual(createHash('sha256').update(message).digest());
      return { Signature: new Uint8Array(sign('sha256', message, privateKey)) };
    });
    const signer = new KmsSigner(new KMSClient({ region: 'us-east-1' }), 'key-1');
    expect(await signer.algorithm()).toBe('ecdsa-p256-sha256');
    const signature = await signer.sign(message);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toMatchObject({
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(
      verifyDsseSignature(
        { payloadType: 'application/vnd.jobengine.audit-manifest+json' },
        Buffer.from('{"m":1}\n'),
        signature,
        publicKey,
      ),
    ).toBe(true);
  });

  it('refuses a key spec bundles cannot use, and asks KMS again next time', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: spki(publicKey), KeySpec: 'RSA_2048' });
    const signer = new KmsSigner(new KMSClient({ region: 'us-east-1' }), 'key-rsa');
    await expect(signer.sign(message)).rejects.toThrow(/RSA_2048 cannot sign bundles/);
    await expect(signer.keyId()).rejects.toThrow();
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });
});

describe('S3ExportStore', () => {
  it('puts objects under their key and reads them back; a missing key is null', async () => {
    s3.on(PutObjectCommand).resolves({});
    s3.on(GetObjectCommand, { Key: 'acme/e1/manifest.json' }).resolves({
      // The SDK's stream body, reduced to what the store reads.
      Body: { transformToByteArray: async () => new Uint8Array(Buffer.from('{"m":1}\n')) } as never,
    });
    s3.on(GetObjectCommand, { Key: 'acme/e1/gone.json' }).rejects(
      new NoSuchKey({ message: 'gone', $metadata: {} }),
    );
    const store = new S3ExportStore(new S3Client({ region: 'us-east-1' }), 'bundles');
    await store.put('acme/e1/manifest.json', Buffer.from('{"m":1}\n'), 'application/json');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'bundles',
      Key: 'acme/e1/manifest.json',
      ContentType: 'application/json',
    });
    expect((await store.get('acme/e1/manifest.json'))?.toString()).toBe('{"m":1}\n');
    expect(await store.get('acme/e1/gone.json')).toBeNull();
  });
});
