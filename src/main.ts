/** Entry point: `npm start`. Loads config, starts Herald, shuts down gracefully on SIGINT/SIGTERM. */
import { loadConfig, DEV_SECRET_FILE } from './config.js';
import { createLogger } from './log.js';
import { createHerald } from './app.js';
import { isAppError } from './errors.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(isAppError(error) ? `herald: ${error.message}` : error);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (config.jwt.secretSource === 'generated' || config.jwt.secretSource === 'dev-file') {
    logger.warn(
      `JWT_SECRET is not set: using a development secret kept in ${config.dataDir}/${DEV_SECRET_FILE}. ` +
        'Mint tokens with `npm run token -- --sub u1 --role admin`. Set JWT_SECRET in production (required when NODE_ENV=production).',
    );
  }
  const herald = await createHerald(config, logger);
  const url = await herald.listen();
  logger.info({ url: `${url}/graphql` }, `Herald listening: GraphiQL at ${url}/graphql, health at ${url}/health`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining connections and requests');
    // The graceful part is bounded by SHUTDOWN_TIMEOUT_MS; flushing and closing the stores get 5 s more.
    const force = setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000);
    force.unref();
    await herald.close();
    logger.info('shut down');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error('herald: failed to start:', isAppError(error) ? error.message : error);
  process.exit(1);
});
