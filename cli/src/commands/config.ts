import type { Command } from 'commander';
import {
  configPath,
  isSettingName,
  readConfigFile,
  resolveSetting,
  SETTING_NAMES,
  writeConfigFile,
} from '../config.ts';
import type { GlobalFlags } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { createOutput, keyValues } from '../output.ts';

/** `jobengine config set|unset|show|path`: the settings file (~/.config/jobengine/config.json). */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('endpoint, token, tenant and project settings');
  const setting = (name: string) => {
    if (!isSettingName(name))
      throw new UsageError(`unknown setting '${name}' (one of ${SETTING_NAMES.join(', ')})`);
    return name;
  };

  config
    .command('set')
    .description(`store a setting (${SETTING_NAMES.join(', ')})`)
    .argument('<name>', SETTING_NAMES.join(' | '))
    .argument('<value>')
    .action(async (name: string, value: string) => {
      const path = configPath();
      const file = await readConfigFile(path);
      file[setting(name)] = value;
      await writeConfigFile(path, file);
      process.stderr.write(`${name} saved in ${path}\n`);
    });

  config
    .command('unset')
    .description('remove a stored setting')
    .argument('<name>')
    .action(async (name: string) => {
      const path = configPath();
      const file = await readConfigFile(path);
      delete file[setting(name)];
      await writeConfigFile(path, file);
    });

  config
    .command('show')
    .description('the settings in effect and where each comes from (the token is shortened)')
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<GlobalFlags>();
      const out = createOutput(flags.json === true);
      const file = await readConfigFile(configPath());
      const effective = Object.fromEntries(
        SETTING_NAMES.map((name) => {
          const resolved = resolveSetting(name, flags[name], file);
          const value =
            name === 'token' && resolved.value
              ? `${resolved.value.slice(0, 12)}…(${resolved.value.length} chars)`
              : resolved.value;
          return [name, { value: value ?? null, from: resolved.variable ?? resolved.from }];
        }),
      );
      out.result({ file: configPath(), settings: effective }, () => {
        out.line(`file  ${configPath()}`);
        for (const line of keyValues(
          Object.fromEntries(
            Object.entries(effective).map(([k, v]) => [k, `${v.value ?? '-'}  (${v.from})`]),
          ),
        ))
          out.line(line);
      });
    });

  config
    .command('path')
    .description('print the settings file path')
    .action(() => {
      process.stdout.write(`${configPath()}\n`);
    });
}
