#!/usr/bin/env bash
# LocalStack init hook ("ready"): the rest of what the stack deploys and the local runtime or an export
# run may use against LocalStack - the domain event bus, the audit export bucket and the asymmetric
# signing key (ECC_NIST_P256, SIGN_VERIFY), under an alias so scripts find it without knowing its id.
# Keep the names in step with infra/lib/settings.ts (dev) and infra/lib/audit-exports.ts.
set -euo pipefail

awslocal events create-event-bus --name jobengine-dev >/dev/null
awslocal s3api create-bucket --bucket jobengine-dev-exports >/dev/null
awslocal s3api put-bucket-versioning --bucket jobengine-dev-exports \
  --versioning-configuration Status=Enabled
key_id=$(awslocal kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY \
  --description 'JobEngine audit export manifests (LocalStack)' --query KeyMetadata.KeyId --output text)
awslocal kms create-alias --alias-name alias/jobengine-dev-signing --target-key-id "$key_id"
echo "EVENT_BUS_NAME=jobengine-dev AUDIT_EXPORT_BUCKET=jobengine-dev-exports AUDIT_SIGNING_KMS_KEY_ID=alias/jobengine-dev-signing"
