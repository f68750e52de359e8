/** Publishing helpers for tests: valid inputs built from the catalogue's example payloads. */
import { examplePayload } from '../../src/events/examples.js';
import { getSpec, type EventTypeName } from '../../src/events/catalogue.js';
import type { TestServer } from './server.js';

export interface TestInput {
  type: EventTypeName;
  userId?: string | null;
  roles?: string[];
  level?: string;
  source?: string;
  data?: Record<string, unknown>;
  idempotencyKey?: string;
}

/** The GraphQL input for a test event (enum values upper-cased, example payload by default). */
export function toInput(input: TestInput) {
  return {
    type: getSpec(input.type).enumValue,
    userId: input.userId ?? null,
    roles: input.roles?.map((r) => r.toUpperCase()),
    level: input.level,
    source: input.source ?? 'test-service',
    data: input.data ?? examplePayload(input.type),
    idempotencyKey: input.idempotencyKey,
  };
}

const PUBLISH = /* GraphQL */ `
  mutation Publish($input: PublishEventInput!) {
    publishEvent(input: $input) { id type level userId cursor timestamp source }
  }
`;

/** Publishes through the real GraphQL API with a service token; throws on errors. */
export async function publish(server: Pick<TestServer, 'gql' | 'token'>, input: TestInput, token = server.token('svc-test', 'service')) {
  const { status, body } = await server.gql(PUBLISH, { input: toInput(input) }, token);
  if (body.errors) throw new Error(`publish failed (${status}): ${JSON.stringify(body.errors)}`);
  return body.data!.publishEvent as { id: string; type: string; level: string; userId: string | null; cursor: string; timestamp: string };
}

export const EVENT_FIELDS = /* GraphQL */ `
  __typename id type level userId cursor source timestamp
  ... on OrderCreatedEvent { orderId customerId amount currency }
  ... on EarningRecordedEvent { earningId amount breakdown { tip } }
  ... on LocationUpdatedEvent { latitude longitude deliveryId }
`;
