/** Base of every error the server raises on purpose: a stable `code` for logs, metrics and API answers. */
export class ServerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The environment or the GASWATCH_CONFIG file is invalid; `issues` lists every problem. */
export class ConfigError extends ServerError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super('E_CONFIG', `invalid configuration:\n  ${issues.join('\n  ')}`);
    this.issues = issues;
  }
}

/** The storage backend could not be reached or refused a write. */
export class StoreError extends ServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE', message, options);
  }
}

/** The store refused data it will never accept (e.g. an InfluxDB field type conflict); retrying is useless. */
export class StoreRejectedError extends ServerError {
  constructor(message: string) {
    super('E_STORE_REJECTED', message);
  }
}

/** The on-disk ingest buffer is full: readings are refused until the store drains it. */
export class BufferFullError extends ServerError {
  constructor(buffered: number) {
    super('E_BUFFER_FULL', `ingest buffer full (${buffered} readings waiting for the store)`);
  }
}

/** An HTTP caller's mistake: answered as 4xx `{"error": code, "message": text}`. */
export class HttpError extends ServerError {
  readonly statusCode: number;
  constructor(statusCode: number, code: string, message: string) {
    super(code, message);
    this.statusCode = statusCode;
  }
}
