import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { JobEngineStack, type JobEngineStackProps } from './job-engine-stack.ts';
import { authSettingsFromContext, settingsFor } from './settings.ts';

/**
 * Adds the stack of the environment named by the `env` context value, checked by the cdk-nag AWS Solutions
 * pack: synthesis fails on any finding not acknowledged (with a reason) through `Validations.of(...)`.
 * The token issuer comes from the `auth:<env>:*` context values (see `authSettingsFromContext`).
 * Account and region come from the `account`/`region` context values when given; otherwise the stack is
 * environment-agnostic and synthesizes offline.
 */
export function addJobEngine(app: App, props: Partial<JobEngineStackProps> = {}): JobEngineStack {
  const settings = settingsFor(app.node.tryGetContext('env'));
  const stack = new JobEngineStack(app, `JobEngine-${settings.name}`, {
    description: `JobEngine control plane (${settings.name})`,
    env: environmentFromContext(app),
    ...props,
    settings,
    auth: props.auth ?? authSettingsFromContext(settings.name, (key) => app.node.tryGetContext(key)),
    ...alarmTopicFromContext(app, settings.name),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/** `alarms:<env>:topicArn`: the SNS topic the environment's alarms notify, when given. */
export function alarmTopicFromContext(app: App, environment: string): { alarmTopicArn?: string } {
  const key = `alarms:${environment}:topicArn`;
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === '') return {};
  if (typeof value !== 'string' || !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(value)) {
    throw new Error(`Context "${key}" must be an SNS topic ARN, got ${JSON.stringify(value)}`);
  }
  return { alarmTopicArn: value };
}

function environmentFromContext(app: App): Environment | undefined {
  const account: unknown = app.node.tryGetContext('account');
  const region: unknown = app.node.tryGetContext('region');
  if (account === undefined && region === undefined) {
    return undefined;
  }
  return {
    ...(typeof account === 'string' ? { account } : {}),
    ...(typeof region === 'string' ? { region } : {}),
  };
}
