/**
 * `client.subscribe(document, variables, sink)`: an app's own typed subscription document (e.g. the notification
 * centre's `notificationStateChanged`) on the client's connection. It has no cursor: it is started again on every
 * (re)connection and transport switch, which suits operations whose first result is the current state. Events with
 * resume, order and dedupe are `client.on`'s.
 */
import type { Connection } from './connection.js';
import { fromGraphQLErrors, type HeraldError } from './errors.js';
import type { GraphQLRequest } from './http.js';

export interface OperationHandlers<TData> {
  /** Each result's `data`. */
  next(data: TData): void;
  /** The hub refused or failed the operation (its `extensions.code` in `code`); it is not restarted. */
  error?(error: HeraldError): void;
  /** The hub completed the operation; it is not restarted. */
  complete?(): void;
}

export class GenericOperation {
  readonly restored = true;
  #connection: Connection | undefined;
  #stop: (() => void) | undefined;

  constructor(
    readonly request: GraphQLRequest,
    private readonly handlers: OperationHandlers<unknown>,
    /** Called when the operation ends for good (error, complete): the client forgets it. */
    private readonly onEnd: (operation: GenericOperation) => void,
  ) {}

  get connection(): Connection | undefined {
    return this.#connection;
  }

  restore(): Promise<void> {
    return Promise.resolve();
  }

  attach(connection: Connection): void {
    this.detach();
    const fail = (error: HeraldError) => {
      if (this.#connection !== connection) return;
      this.detach();
      this.onEnd(this);
      this.handlers.error?.(error);
    };
    this.#connection = connection;
    this.#stop = connection.subscribe(this.request, {
      next: (result) => {
        if (result.data) this.handlers.next(result.data);
        else if (result.errors?.length) fail(fromGraphQLErrors(result.errors));
      },
      error: (error) => fail(error),
      complete: () => {
        if (this.#connection !== connection) return;
        this.#stop = undefined;
        this.detach();
        this.onEnd(this);
        this.handlers.complete?.();
      },
    });
  }

  detach(): void {
    const stop = this.#stop;
    this.#stop = undefined;
    this.#connection = undefined;
    stop?.();
  }
}
