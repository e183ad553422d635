/** Every failure the gateway reports carries a stable `code`; protocol errors keep their protocol data. */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration file that cannot be used; `issues` lists every problem as `path: reason`. */
export class ConfigError extends GatewayError {
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super('config_invalid', `invalid gateway config ${file}:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** A read or write on a bus that did not produce a valid answer. Never becomes a reading. */
export class DriverError extends GatewayError {}

/** The device did not answer within its timeout. */
export class TimeoutError extends DriverError {
  constructor(message: string) {
    super('timeout', message);
  }
}

/** A frame arrived whose CRC/checksum is wrong. */
export class CrcError extends DriverError {
  constructor(
    message: string,
    readonly frame: Buffer,
  ) {
    super('bad_crc', message);
  }
}

/** Bytes on the line that do not form a frame for this request. */
export class FrameError extends DriverError {
  constructor(
    message: string,
    readonly frame?: Buffer,
  ) {
    super('bad_frame', message);
  }
}

/** The device answered with a Modbus exception response. */
export class ModbusExceptionError extends DriverError {
  constructor(
    readonly exceptionCode: number,
    readonly functionCode: number,
  ) {
    super(
      'modbus_exception',
      `Modbus exception ${exceptionCode} (${EXCEPTION_NAMES[exceptionCode] ?? 'unknown'}) on function ${functionCode}`,
    );
  }
}

/** The port or connection is not open (unplugged adapter, refused connection). */
export class PortError extends DriverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('port_unavailable', message, options);
  }
}

export const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};
