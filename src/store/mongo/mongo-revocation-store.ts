/** Revocations on MongoDB: one document per user (`_id` = user id, the latest revocation), shared by every instance. */
import type { Db } from 'mongodb';
import type { Revocation, RevocationStore } from '../../auth/revocations.js';
import { createErrorGuard, ensureIndexes } from './driver.js';

export const REVOCATIONS_COLLECTION = 'revocations';

interface RevocationDoc {
  _id: string;
  revokedAt: number;
}

export async function createMongoRevocationStore(db: Db): Promise<RevocationStore> {
  const revocations = db.collection<RevocationDoc>(REVOCATIONS_COLLECTION);
  await ensureIndexes(revocations, [{ key: { revokedAt: 1 }, name: 'revokedAt_1' }]);
  const guard = createErrorGuard('MongoDB revocations').run;
  return {
    revoke: ({ userId, revokedAt }: Revocation) =>
      guard('revoke', async () => void (await revocations.updateOne({ _id: userId }, { $max: { revokedAt } }, { upsert: true }))),
    since: (from) =>
      guard('since', async () => (await revocations.find({ revokedAt: { $gte: from } }).toArray()).map((doc) => ({ userId: doc._id, revokedAt: doc.revokedAt }))),
    prune: (before) => guard('prune', async () => void (await revocations.deleteMany({ revokedAt: { $lt: before } }))),
  };
}
