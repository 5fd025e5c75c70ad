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
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
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
