#!/usr/bin/env bash
# LocalStack runs this once its services are up (init hook "ready"). It creates the queues the CDK stack
# deploys - `plan` and `fanout`, each with a dead-letter queue and redrive policy - so the local runtime
# can use real SQS with AWS_ENDPOINT_URL=http://localhost:4566. The aws test tier creates its own
# uniquely named queues and needs none of these.
#
# Keep the names and redrive settings in step with the stack in infra/.
set -euo pipefail

MAX_RECEIVE_COUNT=5
DLQ_RETENTION_SECONDS=1209600 # 14 days, the SQS maximum: dead letters wait for an operator

create_queue_with_dlq() {
  local name=$1 dlq_url dlq_arn redrive
  dlq_url=$(awslocal sqs create-queue --queue-name "${name}-dlq" \
    --attributes "MessageRetentionPeriod=${DLQ_RETENTION_SECONDS}" --query QueueUrl --output text)
  dlq_arn=$(awslocal sqs get-queue-attributes --queue-url "$dlq_url" \
    --attribute-names QueueArn --query Attributes.QueueArn --output text)
  # RedrivePolicy is a JSON document inside a JSON string attribute, hence the escaped quotes.
  redrive="{\\\"deadLetterTargetArn\\\":\\\"${dlq_arn}\\\",\\\"maxReceiveCount\\\":\\\"${MAX_RECEIVE_COUNT}\\\"}"
  awslocal sqs create-queue --queue-name "$name" \
    --attributes "{\"RedrivePolicy\":\"${redrive}\"}" --query QueueUrl --output text
}

create_queue_with_dlq jobengine-plan
create_queue_with_dlq jobengine-fanout
