import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Token, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJobEngine } from '../../infra/lib/job-engine-app.ts';
import { plannerMaxConcurrency } from '../../infra/lib/planner.ts';
import { authSettingsFromContext, ENVIRONMENTS, settingsFor } from '../../infra/lib/settings.ts';
import {
  cdkJsonContext,
  logicalIdOf,
  PROD_AUTH_CONTEXT,
  type SynthesizedJobEngine,
  synthJobEngine,
} from './synth.ts';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; severity: string }[];
  }[];
}

function validationReport(outdir: string): ValidationReport {
  return JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
}

describe('settings', () => {
  it('resolve a known environment name', () => {
    expect(settingsFor('prod')).toBe(ENVIRONMENTS.prod);
  });

  it('reject an unknown environment name, listing the known ones', () => {
    expect(() => settingsFor('staging')).toThrow(/Unknown environment "staging".*dev, prod/);
    expect(() => settingsFor(undefined)).toThrow(/Unknown environment/);
    expect(() => settingsFor('toString')).toThrow(/Unknown environment/);
  });

  it('default to dev through cdk.json', () => {
    expect(cdkJsonContext().env).toBe('dev');
  });

  it('fail the app early on an unknown environment', () => {
    const app = new App({ context: cdkJsonContext({ env: 'staging' }) });
    expect(() => addJobEngine(app)).toThrow(/Unknown environment "staging"/);
  });
});

describe('auth settings', () => {
  const fromContext = (environment: 'dev' | 'prod', context: Record<string, unknown>) =>
    authSettingsFromContext(environment, (key) => context[key]);

  it('come from cdk.json for dev: the placeholder issuer on the reserved .invalid domain', () => {
    expect(fromContext('dev', cdkJsonContext())).toEqual({
      issuer: 'https://auth.dev.jobengine.invalid/',
      audience: 'jobengine',
      jwksUrl: 'https://auth.dev.jobengine.invalid/.well-known/jwks.json',
    });
  });

  it("are required for prod, and dev's never stand in for them", () => {
    expect(() => fromContext('prod', cdkJsonContext())).toThrow(
      /"prod" needs its token issuer in context: auth:prod:issuer, auth:prod:audience/,
    );
    const app = new App({ context: cdkJsonContext({ env: 'prod' }) });
    expect(() => addJobEngine(app)).toThrow(/auth:prod:jwksUrl/);
    expect(fromContext('prod', PROD_AUTH_CONTEXT)).toEqual({
      issuer: 'https://login.example.com/',
      audience: 'jobengine',
      jwksUrl: 'https://login.example.com/.well-known/jwks.json',
    });
  });

  it('take the key set inline instead of by URL, but not both', () => {
    const base = { 'auth:prod:issuer': 'https://login.example.com/', 'auth:prod:audience': 'jobengine' };
    const jwks = '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}';
    expect(fromContext('prod', { ...base, 'auth:prod:jwks': jwks })).toEqual({
      issuer: 'https://login.example.com/',
      audience: 'jobengine',
      jwks,
    });
    expect(() =>
      fromContext('prod', {
        ...base,
        'auth:prod:jwks': jwks,
        'auth:prod:jwksUrl': 'https://login.example.com/k',
      }),
    ).toThrow(/exactly one of/);
    expect(() => fromContext('prod', { ...base, 'auth:prod:jwks': '{"kty":"OKP"}' })).toThrow(
      /JSON Web Key Set/,
    );
  });

  it('fetch keys over https only', () => {
    expect(() =>
      fromContext('prod', {
        ...PROD_AUTH_CONTEXT,
        'auth:prod:jwksUrl': 'http://login.example.com/jwks.json',
      }),
    ).toThrow(/must be an https URL/);
    expect(() => fromContext('prod', { ...PROD_AUTH_CONTEXT, 'auth:prod:jwksUrl': 'not a url' })).toThrow(
      /is not a URL/,
    );
  });
});

describe.each(['dev', 'prod'] as const)('the %s app', (env) => {
  let synth: SynthesizedJobEngine;

  beforeAll(() => {
    // synth throws on any cdk-nag finding that is not acknowledged
    // cdk-nag and the settings concern the template only: no need to bundle
    synth = synthJobEngine(env, { bundle: false, ...(env === 'prod' ? { context: PROD_AUTH_CONTEXT } : {}) });
  });
  afterAll(() => synth?.dispose());

  it('is named after the environment and synthesizes env-agnostic', () => {
    expect(synth.stack.stackName).toBe(`JobEngine-${env}`);
    expect(Token.isUnresolved(synth.stack.account)).toBe(true);
    expect(Token.isUnresolved(synth.stack.region)).toBe(true);
  });

  it('passes the cdk-nag AWS Solutions checks with no unacknowledged finding', () => {
    // what synthesis reported (synth itself throws on an error)...
    for (const plugin of validationReport(synth.outdir).pluginReports) {
      expect(plugin.violations.filter((v) => v.severity === 'error' || v.severity === 'fatal')).toEqual([]);
    }
    // ...and the pack run directly, warnings included
    const report = new AwsSolutionsChecks().validateScope(synth.app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
    expect(report.success).toBe(true);
  });

  it('justifies every acknowledged finding with a reason', () => {
    const acknowledgements = synth.app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledgements) {
      expect(reason.length, rule).toBeGreaterThan(30);
    }
  });

  it('applies the environment database settings', () => {
    const settings = ENVIRONMENTS[env];
    synth.template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: {
        MinCapacity: settings.database.minCapacityAcu,
        MaxCapacity: settings.database.maxCapacityAcu,
      },
      DeletionProtection: settings.database.deletionProtection,
    });
    synth.template.resourceCountIs('AWS::RDS::DBInstance', 1 + settings.database.readers);
    synth.template.resourceCountIs('AWS::EC2::NatGateway', settings.network.natGateways);
  });

  it("sizes the planner's concurrency from the environment's connection budget", () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: {
        MaximumConcurrency: plannerMaxConcurrency(ENVIRONMENTS[env].planner.connectionBudget),
      },
    });
  });

  it('reserves concurrency as its connection budget says: prod per family, dev none', () => {
    const { reservedConcurrency } = ENVIRONMENTS[env];
    const functions = synth.template.findResources('AWS::Lambda::Function');
    const reservedOf = (fn: { node: { defaultChild?: unknown } }) =>
      functions[logicalIdOf(fn, synth.stack)]?.Properties.ReservedConcurrentExecutions;
    for (const [name, fn] of Object.entries(synth.stack.restApi.functions)) {
      expect(reservedOf(fn), name).toBe(
        name === 'streams' ? reservedConcurrency.streamFunction : reservedConcurrency.restFunction,
      );
    }
    for (const fn of Object.values(synth.stack.webSocketApi.functions)) {
      expect(reservedOf(fn)).toBe(reservedConcurrency.webSocketFunction);
    }
    expect(reservedOf(synth.stack.ticks.function)).toBe(reservedConcurrency.tick);
    synth.template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({
        MaxConnectionsPercent: ENVIRONMENTS[env].connectionBudget.proxyMaxConnectionsPercent,
      }),
    });
  });
});
