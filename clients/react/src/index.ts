/**
 * @herald/react: React bindings for a Herald hub over @herald/sdk.
 * - `HeraldProvider` (a client, or options to own one: StrictMode- and SSR-safe);
 * - live hooks: `useHeraldEvents`, `useDeliveryTracking`, `useHeraldStatus`;
 * - query hooks generated from clients/react/documents/ (`useEventsLogQuery`, `useEventByIdQuery`, …) over
 *   `useHeraldQuery`, with the client preset's typed documents for queries of your own.
 */
export { HeraldProvider } from './provider.js';
export type { HeraldProviderProps } from './provider.js';
export { HeraldContext, useHeraldClient } from './context.js';
export { useHeraldStatus, IDLE_STATUS } from './use-herald-status.js';
export { useHeraldEvents, DEFAULT_EVENTS_LIMIT } from './use-herald-events.js';
export type { UseHeraldEventsOptions, UseHeraldEventsResult } from './use-herald-events.js';
export { useDeliveryTracking, reduceDeliveryTracking, emptyTracking, DELIVERY_STEPS } from './use-delivery-tracking.js';
export type {
  DeliveryEta,
  DeliveryPosition,
  DeliveryStep,
  DeliveryTrackingState,
  UseDeliveryTrackingOptions,
  UseDeliveryTrackingResult,
} from './use-delivery-tracking.js';
export { useHeraldQuery } from './use-herald-query.js';
export type { HeraldQueryOptions, HeraldQueryResult } from './use-herald-query.js';
export * from './generated/hooks.js';
export * from './generated/graphql.js';
