const EMPTY = Buffer.alloc(0);

/** `head` + `body` + `tail` in one buffer: the only per-socket work on a shared frame is this copy. */
export function splice(head: Buffer, body: Buffer, tail: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(head.length + body.length + tail.length);
  head.copy(frame, 0);
  body.copy(frame, head.length);
  tail.copy(frame, head.length + body.length);
  return frame;
}

/**
 * Shared execution for live subscriptions: subscribers whose operation gives the same result for an
 * event form one group, and per event the group executes the selection once and serializes once; each
 * transport splices only its own framing (graphql-ws subscription id, SSE `id:` cursor) around the bytes.
 *
 * What makes two subscribers' results equal, and so the group key:
 * - the same parsed document (Yoga's document cache hands out one DocumentNode per distinct source text)
 *   and operation name;
 * - the values of the variables the selection *under* the root field reads (`@include(if: $x)`, field
 *   arguments). The root field's own arguments (`types`, `after`, `deliveryId`) only choose which events
 *   reach the subscriber, which the router decides per subscriber before any shared result is used;
 * - the scope: everything the resolvers below the root read from the viewer. Today no resolver of an
 *   event type reads the viewer; the role is in the key anyway so that one that ever reads it per role
 *   stays correct. A resolver that read the user id would have to add it here.
 * Execution is synchronous (every resolver below the root is), so a frame is rendered in the same turn
 * as the router's dispatch and the per-event cost is one `execute` and one `JSON.stringify` per group.
 */
import { execute, GraphQLError, Kind, visit, type DocumentNode, type ExecutionArgs, type ExecutionResult, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { HeraldEvent } from '../events/model.js';
import type { GraphQLContext } from './context.js';
import { serializeResult } from './serialize.js';

export interface LiveGroup {
  /** The serialized `ExecutionResult` of this group's operation for one event, as UTF-8 (cached for the last event). */
  render(event: HeraldEvent): Buffer;
  /**
   * `wrap(render(event), event)`, built once per event for every member passing the same `wrap` (a module-level
   * function): for frames with no per-member part, such as SSE's, all members write the same bytes.
   */
  shared(event: HeraldEvent, wrap: (body: Buffer, event: HeraldEvent) => Buffer): Buffer;
  /** A member left; the last one out removes the group. */
  leave(): void;
}

export interface LiveGroups {
  /** The group for these execution arguments and viewer scope (created on first use). */
  join(args: ExecutionArgs, scope: string): LiveGroup;
  /** Groups alive now (for tests and metrics). */
  readonly size: number;
}

export interface LiveGroupsOptions {
  /** Masks an unexpected error raised while rendering (the boundary's error masking). */
  readonly maskError: (error: unknown) => GraphQLError;
}

/** Names of the variables read below the root fields of the operation (fragments followed). */
function selectionVariables(document: DocumentNode, operationName: string | null | undefined): string[] {
  const fragments = new Map<string, SelectionSetNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def.selectionSet);
  const operation = document.definitions.find(
    (def) => def.kind === Kind.OPERATION_DEFINITION && (operationName ? def.name?.value === operationName : true),
  );
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) =>
    visit(selectionSet, {
      Variable: (node) => void names.add(node.name.value),
      FragmentSpread: (node) => {
        const fragment = fragments.get(node.name.value);
        if (fragment && !seen.has(node.name.value)) {
          seen.add(node.name.value);
          walk(fragment);
        }
      },
    });
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.selectionSet) walk(selection.selectionSet);
      for (const directive of selection.directives ?? []) visit(directive, { Variable: (node) => void names.add(node.name.value) });
    } else walk({ kind: Kind.SELECTION_SET, selections: [selection] });
  }
  return [...names].sort();
}

export function createLiveGroups(options: LiveGroupsOptions): LiveGroups {
  const byDocument = new WeakMap<DocumentNode, Map<string, Group>>();
  const variablesOf = new WeakMap<DocumentNode, Map<string, string[]>>();
  let size = 0;

  class Group implements LiveGroup {
    members = 0;
    #seq = -1;
    #json: Buffer = EMPTY;
    #sharedSeq = -1;
    #wrap: ((body: Buffer, event: HeraldEvent) => Buffer) | undefined;
    #shared: Buffer = EMPTY;
    constructor(
      private readonly args: ExecutionArgs,
      private readonly key: string,
    ) {}

    render(event: HeraldEvent): Buffer {
      if (event.seq === this.#seq) return this.#json;
      const result = execute({ ...this.args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>;
      if (result instanceof Promise) throw new Error('live rendering must be synchronous: a resolver below a subscription root returned a promise');
      const json = Buffer.from(serializeResult(result.errors?.length ? { ...result, errors: result.errors.map(options.maskError) } : result));
      this.#seq = event.seq;
      this.#json = json;
      return json;
    }

    shared(event: HeraldEvent, wrap: (body: Buffer, event: HeraldEvent) => Buffer): Buffer {
      if (event.seq !== this.#sharedSeq || wrap !== this.#wrap) {
        this.#shared = wrap(this.render(event), event);
        this.#sharedSeq = event.seq;
        this.#wrap = wrap;
      }
      return this.#shared;
    }

    leave(): void {
      if (--this.members > 0) return;
      const groups = byDocument.get(this.args.document);
      if (groups?.get(this.key) === this) {
        groups.delete(this.key);
        size--;
      }
    }
  }

  return {
    get size() {
      return size;
    },
    join(args, scope) {
      const operationName = args.operationName ?? '';
      let names = variablesOf.get(args.document)?.get(operationName);
      if (!names) {
        names = selectionVariables(args.document, args.operationName);
        let perOperation = variablesOf.get(args.document);
        if (!perOperation) variablesOf.set(args.document, (perOperation = new Map()));
        perOperation.set(operationName, names);
      }
      const values = args.variableValues ?? {};
      const key = `${operationName}\u0000${scope}\u0000${JSON.stringify(names.map((name) => values[name] ?? null))}`;
      let groups = byDocument.get(args.document);
      if (!groups) byDocument.set(args.document, (groups = new Map()));
      let group = groups.get(key);
      if (!group) {
        // The group's context carries no per-request state (no SSE cursor slot, no row budget use).
        const context = args.contextValue as GraphQLContext;
        const shared: ExecutionArgs = { ...args, contextValue: { ...context, stream: undefined } };
        groups.set(key, (group = new Group(shared, key)));
        size++;
      }
      group.members++;
      return group;
    },
  };
}

/** Keeps each subscription's execution arguments where its transport finds them (`context.stream.args`). */
export function useLiveCapture(): Plugin {
  return {
    onSubscribe({ args }) {
      const state = (args.contextValue as unknown as GraphQLContext).stream;
      if (state) state.args = args;
    },
  };
}
