/**
 * Base of every error the server raises on purpose: a stable snake_case `code` for logs, metrics
 * and API answers (the same style as the gateway's, shared's and the API's error codes), and the
 * HTTP status it maps to when a request meets it (the one error handler, plugins/http.ts).
 */
export class ServerError extends Error {
  readonly code: string;
  /** HTTP status of a request that fails with this error; 500 (and a hidden message) when absent. */
  readonly statusCode: number | undefined;
  /**
   * What a caller is told on a 5xx: the message itself may carry internals (a store's host and
   * port, its response), which are logged, never answered.
   */
  readonly publicMessage: string | undefined;
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; statusCode?: number; publicMessage?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options?.statusCode;
    this.publicMessage = options?.publicMessage;
  }
}

/** The environment or the GASWATCH_CONFIG file is invalid; `issues` lists every problem. */
export class ConfigError extends ServerError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super('config_invalid', `invalid configuration:\n  ${issues.join('\n  ')}`);
    this.issues = issues;
  }
}

/** The storage backend could not be reached or refused a write. */
export class StoreError extends ServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, {
      ...options,
      statusCode: 503,
      publicMessage: 'the store is unreachable; try again shortly',
    });
  }
}

/** The store refused data it will never accept (e.g. an InfluxDB field type conflict); retrying is useless. */
export class StoreRejectedError extends ServerError {
  constructor(message: string) {
    super('store_rejected', message);
  }
}

/** The on-disk ingest buffer is full: readings are refused until the store drains it. */
export class BufferFullError extends ServerError {
  constructor(buffered: number) {
    super('buffer_full', `ingest buffer full (${buffered} readings waiting for the store)`);
  }
}

/** An HTTP caller's mistake: answered as 4xx `{"error": code, "message": text}`. */
export class HttpError extends ServerError {
  declare readonly statusCode: number;
  constructor(statusCode: number, code: string, message: string) {
    super(code, message, { statusCode });
  }
}
