/**
 * `npm run token -- --sub u1 --role admin [--expires 12h]`: prints a development token signed with
 * JWT_SECRET, or with the generated development secret the server uses when JWT_SECRET is unset.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { normalizeRole, signDevToken } from '../auth/tokens.js';
import { ROLES } from '../events/catalogue.js';

const usage = `usage: npm run token -- --sub <user-id> --role <${ROLES.join('|')}> [--expires 12h]`;

try {
  const { values } = parseArgs({
    options: { sub: { type: 'string' }, role: { type: 'string' }, expires: { type: 'string', default: '12h' } },
  });
  const role = normalizeRole(values.role);
  if (!values.sub || !role) throw new Error(usage);
  const config = loadConfig();
  if (!config.jwt.secret) throw new Error('No JWT_SECRET to sign with (JWT_PUBLIC_KEY deployments mint tokens with their identity provider)');
  const expires = /^\d+$/.test(values.expires!) ? Number(values.expires) : values.expires!;
  process.stdout.write(signDevToken(config.jwt.secret, { sub: values.sub, role, expiresIn: expires }) + '\n');
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}
