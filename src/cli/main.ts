//! The `docktail` command: flags → config → checks → agent, and signals → a graceful stop.
//! The only module that writes to the terminal directly and sets the exit code.

import { Agent, VERSION } from '../app/agent.js';
import { compileConfig } from '../app/compile.js';
import { loadConfig } from '../config/load.js';
import { printConfig } from '../config/print.js';
import { requireClients } from '../config/validate.js';
import { errorMessage, formatIssues } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { parseArgs, usageText } from './args.js';

const { setFlagsFromString } = process.getBuiltinModule('node:v8');

// Config regexes are user input: past excessive backtracking, V8 switches to its linear-time engine.
// It must be set before any regex is compiled (the installed bin sets it too).
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n\n${usageText()}`);
    return 2;
  }
  const args = parsed.args;
  if (args.help) {
    process.stdout.write(usageText());
    return 0;
  }
  if (args.version) {
    process.stdout.write(`docktail ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  if (args.configFile === undefined) {
    process.stderr.write(`-config.file is required\n\n${usageText()}`);
    return 2;
  }

  const loaded = loadConfig({
    file: args.configFile,
    expandEnv: args.expandEnv,
    envFile: args.envFile,
    env: process.env,
  });
  const issues = [...loaded.issues];
  if (loaded.config) {
    if (!args.dryRun) issues.push(...requireClients(loaded.config, loaded.locate));
    issues.push(...compileConfig(loaded.config, loaded.locate).issues);
  }
  if (issues.length > 0 || !loaded.config) {
    process.stderr.write(`${formatIssues(issues, loaded.file ?? args.configFile)}\n`);
    process.stderr.write(`docktail: ${issues.length} problem(s) in the configuration\n`);
    return 1;
  }
  const config = loaded.config;
  if (args.printConfigStderr) process.stderr.write(printConfig(config));
  if (args.checkSyntax) {
    process.stdout.write(`${loaded.file}: valid configuration\n`);
    return 0;
  }

  const logger = createLogger({
    level: args.logLevel ?? config.server.log_level,
    format: args.logFormat ?? config.server.log_format,
  });
  for (const notice of loaded.notices) logger.info(notice);
  logger.info('starting docktail', { version: VERSION, config: loaded.file, dry_run: args.dryRun });

  const agent = new Agent({ config, logger, dryRun: args.dryRun, inspect: args.inspect });
  let signals = 0;
  const stopped = new Promise<number>(resolve => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        // A second signal: the user wants out now. Unflushed lines are read again at the next start.
        logger.warn('second signal: exiting at once', { signal });
        process.exit(130);
      }
      logger.info('stopping', { signal });
      agent.stop().then(
        () => resolve(0),
        err => {
          logger.error('stop failed', { err: errorMessage(err) });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await agent.start();
  } catch (err) {
    logger.error('could not start', { err: errorMessage(err) });
    await agent.stop().catch(() => {});
    return 1;
  }
  return stopped;
}

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code;
    // Anything still holding the loop (a socket that will not close) must not keep a stopped agent alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  err => {
    process.stderr.write(`docktail: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
